// Package sipstack starts, for a component's tests, the SIP layers the
// component sits on, wired as internal/app wires them: a signaling server
// on loopback with the registrar handling REGISTER on it and judging, as
// the server's read filter, which sources may send at all.
//
// It is a package of its own, not part of siptest, because the
// registrar's tests use siptest.
package sipstack

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// Start makes the registrar with ro and the signaling server with so
// (its ReadFilter the registrar's Allow when none is set), listens and
// registers the registrar's handlers. The caller runs srv.Serve and
// reg.Run.
func Start(tb testing.TB, ro registrar.Options, so signaling.Options) (*registrar.Registrar, *signaling.Server) {
	tb.Helper()
	reg, err := registrar.New(ro)
	if err != nil {
		tb.Fatal(err)
	}
	if so.ReadFilter == nil {
		so.ReadFilter = reg.Allow
	}
	srv, err := signaling.New(so)
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		tb.Fatal(err)
	}
	reg.Register(srv)
	return reg, srv
}
