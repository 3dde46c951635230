package b2bua

import (
	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"

	"github.com/hotdesk-pbx/hotdesk/internal/media"
)

// refuse answers a call that may not be made with 403, after the named
// prompt as early media (183 with SDP, then RTP) when the caller offered
// SDP and the PBX has prompts and RTP ports. The caller's CANCEL stops
// the prompt.
func (b *B2BUA) refuse(req *sip.Request, tx sip.ServerTransaction, prompt, lang string) {
	if len(req.Body()) == 0 || b.o.Ports == nil || b.o.Prompts == nil {
		signaling.Respond(tx, req, sip.StatusForbidden, b.log)
		return
	}
	dlg, err := b.dialogUA(req.Transport()).ReadInvite(req, tx)
	if err != nil {
		signaling.Respond(tx, req, sip.StatusForbidden, b.log)
		return
	}
	defer dlg.Close()
	set, err := b.promptSet(lang)
	if err != nil {
		b.log.Warn("b2bua: prompts for announcement", "err", err)
		_ = dlg.Respond(sip.StatusForbidden, signaling.Reason(sip.StatusForbidden), nil)
		return
	}
	sess, err := media.NewSessionWith(media.SessionOptions{Pool: b.o.Ports, LocalIP: b.o.MediaIP, Logger: b.log,
		Security: media.Security{Secure: signaling.Secure(req)}})
	if err != nil {
		b.log.Warn("b2bua: media for announcement", "err", err)
		_ = dlg.Respond(sip.StatusForbidden, signaling.Reason(sip.StatusForbidden), nil)
		return
	}
	defer sess.Close()
	answer, err := sess.Answer(req.Body())
	if err != nil {
		_ = dlg.Respond(sip.StatusForbidden, signaling.Reason(sip.StatusForbidden), nil)
		return
	}
	ct := sip.NewHeader("Content-Type", "application/sdp")
	if err := dlg.Respond(sip.StatusSessionInProgress, "Session Progress", answer, ct); err != nil {
		b.log.Debug("b2bua: announcement 183", "err", err)
		return
	}
	ctx := dlg.Context()
	if err := sess.Play(ctx, set.Say(prompt)); err != nil && ctx.Err() == nil {
		b.log.Debug("b2bua: play announcement", "err", err)
	}
	sess.Close() // the port is free before the caller's ACK, which may never come
	if ctx.Err() != nil {
		return // cancelled by the caller
	}
	// Not dlg.Respond: it waits for the ACK, for Timer H (32 s) when the
	// caller has gone; the transaction retransmits and absorbs it itself.
	res := sip.NewResponseFromRequest(dlg.InviteRequest, sip.StatusForbidden, signaling.Reason(sip.StatusForbidden), nil)
	if err := tx.Respond(res); err != nil {
		b.log.Debug("b2bua: announcement 403", "err", err)
	}
}
