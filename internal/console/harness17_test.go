package console

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// reconfigure rebuilds the harness's console with more options (the
// dashboard's trunk, live calls, the admin service's phone signals) on the
// same store, desk service and bus.
func (hs *harness) reconfigure(set func(o *Options, a *admin.Options)) {
	hs.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ao := admin.Options{Store: hs.store, Desk: hs.desk, Bus: hs.bus, Logger: log, Now: hs.clock.Now}
	o := Options{Store: hs.store, Desk: hs.desk, Bus: hs.bus, Registrations: hs.regs, Logger: log, Now: hs.clock.Now, StreamMax: 5 * time.Second}
	set(&o, &ao)
	o.Admin = admin.New(ao)
	con, err := New(o)
	if err != nil {
		hs.t.Fatal(err)
	}
	hs.con, hs.h = con, con.Handler()
}

// browse serves the harness's console and signs a headless Chromium in;
// it returns the tab and the server's URL.
func (hs *harness) browse(t *testing.T) (context.Context, string) {
	t.Helper()
	srv := hs.serve(t)
	ctx := browser(t)
	signInBrowser(t, ctx, hs, srv.URL)
	return ctx, srv.URL
}
