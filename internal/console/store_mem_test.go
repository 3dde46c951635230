//go:build !sqlitestore

package console

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// browserStore is the store behind the browser test: the in-memory fake
// until internal/store/sqlite lands (then build with -tags sqlitestore).
func browserStore(t *testing.T) hotdesk.Store { return newMemStore() }
