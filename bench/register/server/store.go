package main

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// openStore opens the real durable SQLite store in a fresh file at path, or
// the in-memory stand-in when path is empty (to separate the registrar's
// cost from the store's).
func openStore(ctx context.Context, path string) (hotdesk.Store, error) {
	if path == "" {
		return newMemStore(), nil
	}
	return sqlite.Open(ctx, path)
}
