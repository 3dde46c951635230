package b2bua

import (
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/voicemail"
)

// Voicemail answers a call the B2BUA hands over (feature.Service.Deposit).
type Voicemail interface {
	// Deposit lets the caller of the dialog (read, not answered) leave a
	// message for ext; it blocks until the call is over. False: it did not
	// take the call and sent the caller nothing.
	Deposit(dlg *sipgo.DialogServerSession, req *sip.Request, ext string, from voicemail.Caller) bool
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
	if !c.b.o.Voicemail.Deposit(c.a, c.a.InviteRequest, c.mailbox, from) {
		c.reject(status)
	}
}
