//go:build sqlitestore

package console

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// browserStore is a real SQLite store in a temporary directory.
func browserStore(t *testing.T) hotdesk.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hotdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
