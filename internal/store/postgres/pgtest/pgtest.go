// Package pgtest gives tests a fresh PostgreSQL schema of their own in the
// database named by HOTDESK_TEST_POSTGRES (scripts/test starts one), so the
// store, cluster and whole-binary tests can share one server.
package pgtest

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx" for the admin connection
)

// DSN returns HOTDESK_TEST_POSTGRES or skips the test.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("HOTDESK_TEST_POSTGRES")
	if dsn == "" {
		tb.Skip("HOTDESK_TEST_POSTGRES not set (a postgres:// URL of a database the tests may create schemas in; scripts/test starts one)")
	}
	return dsn
}

var serial atomic.Int64

// MustSchema creates an empty, uniquely named schema in the database at
// dsn and drops it when the test ends. It returns a DSN that uses the
// schema and an admin connection to the database (closed at the end).
func MustSchema(tb testing.TB, dsn string) (string, *sql.DB) {
	tb.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	schema := fmt.Sprintf("hdtest_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), serial.Add(1))
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(tb, dsn, schema), admin
}

// withSearchPath adds search_path=schema to a URL or key=value DSN.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("HOTDESK_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
