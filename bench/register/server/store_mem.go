package main

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
)

// openStore returns the in-memory store until the SQLite store lands.
func openStore(ctx context.Context) (hotdesk.Store, error) { return newMemStore(), nil }
