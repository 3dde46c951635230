package b2bua

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/feature"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// Alert call limits.
const (
	alertRing    = 45 * time.Second // how long an alert call rings
	alertRepeats = 8                // times the message is read out on one call
	alertWait    = 4 * time.Second  // for the 1 after each reading
)

// ErrNoPhone is returned by Alert when the extension has no registered
// phone to call.
var ErrNoPhone = errors.New("b2bua: alert: no registered phone")

// Alert calls ext's phones (the one the user is logged in on and the
// user's personal phones, in parallel; the first to answer wins) from
// "Emergency", reads say out again and again until someone presses 1,
// then plays thanks and hangs up. It reports whether the alert was
// acknowledged; it returns when ctx is done too (the alert was
// acknowledged elsewhere), hanging up. Busy, no answer or a hang-up
// without 1 is not acknowledged: the caller may try again.
func (b *B2BUA) Alert(ctx context.Context, ext string, say, thanks []int16) (bool, error) {
	if b.o.Ports == nil {
		return false, errors.New("b2bua: alert: no RTP ports")
	}
	_, binds := b.targets(ctx, ext, "")
	var local []hotdesk.Binding
	for _, bind := range binds {
		if bind.Node == "" { // phones held by other nodes are not called (yet)
			local = append(local, bind)
		}
	}
	if len(local) == 0 {
		return false, ErrNoPhone
	}
	sess, err := media.NewSessionWith(media.SessionOptions{Pool: b.o.Ports, LocalIP: b.o.MediaIP, Logger: b.log})
	if err != nil {
		return false, fmt.Errorf("b2bua: alert: %w", err)
	}
	defer sess.Close()
	offer, err := sess.Offer()
	if err != nil {
		return false, fmt.Errorf("b2bua: alert: %w", err)
	}
	a := &alertCall{b: b, sess: sess}
	dlg, err := a.ring(ctx, ext, local, offer)
	if err != nil {
		return false, err
	}
	defer a.hangup(dlg)
	if err := sess.SetAnswer(dlg.InviteResponse.Body()); err != nil {
		return false, fmt.Errorf("b2bua: alert: answer: %w", err)
	}
	sess.Start()
	for range alertRepeats {
		sess.ClearDigits()
		keys, err := sess.PlayCollect(ctx, say, 1, alertWait, alertWait)
		if keys == "1" {
			_ = sess.Play(ctx, thanks)
			return true, nil
		}
		if ctx.Err() != nil || dlg.Context().Err() != nil || (err != nil && !errors.Is(err, media.ErrTimeout)) {
			return false, ctx.Err()
		}
	}
	return false, nil
}

// alertCall is one alert call's dialog handling.
type alertCall struct {
	b    *B2BUA
	sess *media.Session

	mu  sync.Mutex
	dlg *sipgo.DialogClientSession
}

// ring sends the INVITE to every contact and returns the first answered
// dialog (ACKed); the others are cancelled or hung up.
func (a *alertCall) ring(ctx context.Context, ext string, binds []hotdesk.Binding, offer []byte) (*sipgo.DialogClientSession, error) {
	rctx, cancel := context.WithTimeout(ctx, alertRing)
	defer cancel()
	type answer struct {
		dlg *sipgo.DialogClientSession
		err error
	}
	answers := make(chan answer, len(binds))
	dom := a.b.domain()
	for _, bind := range binds {
		req, err := a.b.o.SIP.NewRequestTo(sip.INVITE, bind)
		if err != nil {
			answers <- answer{err: err}
			continue
		}
		fillInvite(req, req, identity{name: "Emergency", user: "emergency", host: dom}, sip.Uri{Scheme: "sip", User: ext, Host: dom})
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.AppendHeader(sip.NewHeader("Alert-Info", "<urn:alert:service:emergency>")) // RFC 7462, for phones that ring differently
		req.SetBody(offer)
		callID := req.CallID().Value()
		a.b.o.SIP.AddDialog(callID, signaling.DialogHandlerFunc(a.inDialog))
		go func() {
			dlg, err := a.b.dialogUA(req.Transport()).WriteInvite(rctx, req)
			if err == nil {
				err = dlg.WaitAnswer(rctx, sipgo.AnswerOptions{})
				if err != nil {
					dlg.Close()
				}
			}
			if err != nil {
				a.b.o.SIP.RemoveDialog(callID)
			}
			answers <- answer{dlg, err}
		}()
	}
	var won *sipgo.DialogClientSession
	var lastErr error
	for range binds {
		an := <-answers
		switch {
		case an.err != nil:
			lastErr = an.err
		case won == nil:
			won = an.dlg
			a.mu.Lock()
			a.dlg = won
			a.mu.Unlock()
			cancel() // the other phones stop ringing
		default:
			a.b.log.Debug("b2bua: alert answered twice: hanging up the second")
			a.hangup(an.dlg)
		}
	}
	if won == nil {
		if lastErr == nil {
			lastErr = errors.New("no answer")
		}
		return nil, fmt.Errorf("b2bua: alert to %s: %w", ext, lastErr)
	}
	if err := won.Ack(context.WithoutCancel(ctx)); err != nil {
		a.hangup(won)
		return nil, fmt.Errorf("b2bua: alert ack: %w", err)
	}
	return won, nil
}

// inDialog takes the answered phone's BYE and SIP INFO keys.
func (a *alertCall) inDialog(req *sip.Request, tx sip.ServerTransaction) {
	a.mu.Lock()
	dlg := a.dlg
	a.mu.Unlock()
	switch {
	case dlg == nil || req.CallID().Value() != dlg.InviteRequest.CallID().Value():
		signaling.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, a.b.log)
	case req.Method == sip.BYE:
		if err := dlg.ReadBye(req, tx); err != nil {
			signaling.Respond(tx, req, sip.StatusOK, a.b.log)
		}
		a.sess.Close() // the reading stops at once
	case req.Method == sip.INFO:
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		if key, ok := feature.ParseDTMFInfo(ct, req.Body()); ok {
			a.sess.InjectDigit(key)
		}
		signaling.Respond(tx, req, sip.StatusOK, a.b.log)
	case req.Method == sip.ACK:
	default:
		signaling.Respond(tx, req, sip.StatusOK, a.b.log)
	}
}

// hangup sends BYE (unless the phone hung up) and stops routing the
// dialog.
func (a *alertCall) hangup(dlg *sipgo.DialogClientSession) {
	defer a.b.o.SIP.RemoveDialog(dlg.InviteRequest.CallID().Value())
	defer dlg.Close()
	if dlg.LoadState() == sip.DialogStateEnded {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := dlg.Bye(ctx); err != nil {
		a.b.log.Debug("b2bua: alert bye", "err", err)
	}
}
