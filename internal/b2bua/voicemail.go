package b2bua

import (
	"context"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/voicemail"
)

// Voicemail answers a call the B2BUA hands over (feature.Service.Deposit).
type Voicemail interface {
	// Deposit lets the caller of the dialog (read, not answered) leave a
	// message for ext; it blocks until the call is over, or ctx is done
	// (the PBX shuts down: what was said is kept, the caller gets a BYE).
	// False: it did not take the call and sent the caller nothing.
	Deposit(ctx context.Context, dlg *sipgo.DialogServerSession, req *sip.Request, ext string, from voicemail.Caller) bool
}

// rejectOrVoicemail sends the caller to the callee's mailbox instead of
// rejecting with status (486, 480 or 603) when the callee has voicemail.
// Not on a node hop (the node the caller is on does that) and not after
// the caller cancelled.
func (c *call) rejectOrVoicemail(status int) {
	if c.mailbox == "" || c.hop || c.b.o.Voicemail == nil || c.a.Context().Err() != nil {
		c.reject(status)
		return
	}
	from := voicemail.Caller{Number: c.caller.Number, Name: c.caller.Name, Source: c.a.InviteRequest.Source()}
	c.log.Info("b2bua: to voicemail", "mailbox", c.mailbox, "status", status)
	// The recording ends when the B2BUA shuts down, as its calls do.
	ctx, cancel := context.WithCancel(c.a.Context())
	defer cancel()
	go func() {
		select {
		case <-c.b.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	if !c.b.o.Voicemail.Deposit(ctx, c.a, c.a.InviteRequest, c.mailbox, from) {
		c.reject(status)
	}
}
