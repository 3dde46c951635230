// Package sqlitetest gives a test an empty SQLite store of its own, in
// memory, closed when the test ends: the store most component tests run
// against.
package sqlitetest

import (
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
