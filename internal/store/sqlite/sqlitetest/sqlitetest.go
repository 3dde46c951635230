// Package sqlitetest gives a test an empty SQLite store of its own, in
// memory, closed when the test ends: the store most component tests run
// against; or a durable one in a file, for tests of a restart.
package sqlitetest

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
	"github.com/hotdesk-pbx/hotdesk/internal/store/storetest"
)

// MustOpen opens an empty in-memory store (schema migrated) and closes it
// when the test ends.
func MustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return storetest.MustOpen(tb, sqlite.Open, ":memory:")
}

// MustOpenFile opens (or reopens) a durable store at path. The caller
// closes it: a test that reopens the file, as after a restart, closes the
// first store itself.
func MustOpenFile(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	return db
}
