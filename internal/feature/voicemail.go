package feature

import (
	"context"
	"errors"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/voicemail"
)

// Voicemail codes (issue 13): *97 opens the mailbox of the user at the
// phone (logged in on it, or its owner), *98 asks for the extension. Both
// ask for the user's hot desk PIN; internal/voicemail runs the dialogue on
// the call this package answers.
const (
	FamilyVoicemail = "vm"
	// KindMailbox is *97: the mailbox of the user at the phone.
	KindMailbox Kind = 100
	// KindMailboxAny is *98: any mailbox, extension asked for.
	KindMailboxAny Kind = 101
)

// parseVoicemail recognises the mailbox codes (exactly; "" in the
// settings means the default code).
func parseVoicemail(dialled string, fc hotdesk.FeatureCodes) (Code, bool) {
	own, any := fc.VoicemailCodes()
	switch dialled {
	case own:
		return Code{Family: FamilyVoicemail, Kind: KindMailbox}, true
	case any:
		return Code{Family: FamilyVoicemail, Kind: KindMailboxAny}, true
	}
	return Code{}, false
}

// mailbox runs a *97/*98 call. *97 from a phone nobody is at asks for the
// extension as *98 does.
func (s *Service) mailbox(ctx context.Context, c *call, req *sip.Request, dev *hotdesk.Device, code Code) {
	if s.vm == nil {
		_ = c.Play(ctx, pUnavailable)
		c.sess.Close()
		c.hangup()
		return
	}
	ext := ""
	if code.Kind == KindMailbox {
		ext = s.userAtPhone(ctx, dev)
	}
	err := s.vm.Open(ctx, c, ext, dev.ID, req.Source())
	if ctx.Err() != nil {
		return // the caller hung up
	}
	if err != nil {
		c.log.Info("voicemail call failed", "err", err)
	}
	c.sess.Close()
	c.hangup()
}

// userAtPhone is the extension whose mailbox *97 opens on dev: its owner
// (personal phone) or the user logged in on it; "" when nobody.
func (s *Service) userAtPhone(ctx context.Context, dev *hotdesk.Device) string {
	if dev.Mode == hotdesk.ModePersonal {
		return dev.Owner
	}
	u, err := s.rules.UserAt(ctx, dev.ID)
	if err != nil {
		if !errors.Is(err, desk.ErrNotLoggedIn) {
			s.log.Warn("feature: user at phone for voicemail", "device", dev.ID, "err", err)
		}
		return ""
	}
	return u.Extension
}

// Answer answers the call (voicemail.Call).
func (c *call) Answer() error { return c.answer() }

// Session is the call's media (voicemail.Call).
func (c *call) Session() *media.Session { return c.sess }

// Deposit takes over a call the B2BUA could not connect (busy, no answer,
// logged in nowhere) whose INVITE dialog it has read, and lets the caller
// leave a message in ext's mailbox. It blocks until the call is over or
// ctx is done (then what was said is kept and the caller gets a BYE). It
// reports whether it took the call: false (nothing sent to the caller)
// when voicemail is not wired or no media session could be made, and the
// B2BUA then rejects the call as before.
func (s *Service) Deposit(ctx context.Context, dlg *sipgo.DialogServerSession, req *sip.Request, ext string, from voicemail.Caller) bool {
	if s.vm == nil {
		return false
	}
	// The caller may be a trunk or a phone: SRTP as offered, keys only over TLS.
	c, status := s.newCallOn(dlg, req, s.contact(req), media.Security{Secure: signaling.Secure(req)})
	if c == nil {
		s.log.Warn("feature: no media for voicemail", "status", status)
		return false
	}
	s.active.Add(1)
	defer s.active.Add(-1)
	defer c.close()
	c.log = s.log.With("call_id", c.callID, "voicemail", ext)
	_, err := s.vm.Deposit(ctx, c, ext, from)
	if dlg.Context().Err() != nil {
		return true // the caller hung up
	}
	if err != nil && ctx.Err() == nil {
		c.log.Info("voicemail deposit failed", "err", err)
		if !c.answered {
			// Nothing was said yet: the caller hears "unavailable".
			_ = c.Play(ctx, pUnavailable)
		}
	}
	c.sess.Close()
	c.hangup()
	return true
}

var _ voicemail.Call = (*call)(nil)
