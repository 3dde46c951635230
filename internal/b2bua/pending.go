package b2bua

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
)

// Trunk and emergency routing are the next steps of issue 4; until they
// land, external and emergency numbers are answered 503 and trunk INVITEs
// are not recognised.

type trunkRegState struct{}

func (b *B2BUA) registerLoop(ctx context.Context) { <-ctx.Done() }

func (b *B2BUA) emergency(req *sip.Request, tx sip.ServerTransaction, dev *hotdesk.Device, user *hotdesk.User, number string, st hotdesk.Settings) {
	respond(tx, req, sip.StatusServiceUnavailable, b.log)
}

func (b *B2BUA) callTrunk(req *sip.Request, tx sip.ServerTransaction, caller party, user *hotdesk.User, number string, st hotdesk.Settings) {
	respond(tx, req, sip.StatusServiceUnavailable, b.log)
}

func (b *B2BUA) FromTrunk(req *sip.Request) bool { return false }

func (b *B2BUA) HandleTrunkInvite(req *sip.Request, tx sip.ServerTransaction) {
	respond(tx, req, sip.StatusNotFound, b.log)
}
