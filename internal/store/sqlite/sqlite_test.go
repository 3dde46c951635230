package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/storetest"
)

// MustOpen opens a store at dsn and closes it when the test ends.
func MustOpen(tb testing.TB, dsn string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestContractMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hotdesk.Store { return MustOpen(t, ":memory:") })
}

func TestContractFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hotdesk.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "hotdesk.db"))
	})
}
