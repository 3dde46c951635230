package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/storetest"
)

// MustOpen opens a store at dsn and closes it when the test ends.
func MustOpen(tb testing.TB, dsn string) *DB {
	tb.Helper()
	return storetest.MustOpen(tb, Open, dsn)
}

func TestContractMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hotdesk.Store { return MustOpen(t, ":memory:") })
}

func TestContractFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hotdesk.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "hotdesk.db"))
	})
}
