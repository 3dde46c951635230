package checksync_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/checksync"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// quiet is the tests' logger.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// mustServe starts a signaling server on o (UDP on 127.0.0.1:0 unless
// set, logging nowhere) until the test ends.
func mustServe(t testing.TB, o signaling.Options) *signaling.Server {
	t.Helper()
	if o.UDPAddr == "" {
		o.UDPAddr = "127.0.0.1:0"
	}
	o.Logger = quiet
	srv, err := signaling.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	mustGo(t, srv.Serve)
	return srv
}

// mustRun starts a Notifier on o until the test ends.
func mustRun(t testing.TB, o checksync.Options) *checksync.Notifier {
	t.Helper()
	o.Logger = quiet
	n := checksync.New(o)
	mustGo(t, n.Run)
	return n
}

// mustGo runs run until the test ends, then cancels it and waits.
func mustGo(t testing.TB, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}
