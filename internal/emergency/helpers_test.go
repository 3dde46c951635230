package emergency

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// mustDB is an empty in-memory store, closed when the test ends.
func mustDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustRun runs a Service on o with the settings st, the embedded prompts
// and no logging until stop is called or the test ends.
func mustRun(t testing.TB, o Options, st hotdesk.Settings) (s *Service, stop func()) {
	t.Helper()
	o.Settings = func(context.Context) hotdesk.Settings { return st }
	o.Logger = slog.New(slog.DiscardHandler)
	if o.Prompts == nil {
		o.Prompts = func(lang string) (*prompts.Set, error) { return prompts.New(lang, "") }
	}
	s = New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return s, stop
}
