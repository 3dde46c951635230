// Package sipnotify is what the PBX's NOTIFY senders share: the dialog of
// a subscription a phone made (RFC 6665 section 4.1.2: its tags, its
// 200 answer, its in-dialog NOTIFYs, the Expires bounds) for presence (BLF)
// and mwi (message-summary), and the unsolicited NOTIFY to a registered
// contact that checksync and mwi send to phones without a subscription.
package sipnotify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// Timeout bounds one NOTIFY transaction (RFC 3261 Timer F: a phone that
// has not answered by then is given up on).
const Timeout = 32 * time.Second

// Dialog is the dialog of one subscription, as the initial SUBSCRIBE made
// it: the NOTIFYs go to the subscriber's Contact at the address the
// SUBSCRIBE came from (NAT-safe), From our tag to theirs.
type Dialog struct {
	CallID    string
	LocalTag  string  // our tag: To of our answers, From of our NOTIFYs
	RemoteTag string  // the subscriber's From tag
	Local     sip.Uri // From of our NOTIFYs
	Remote    sip.Uri // the subscriber's From address
	Contact   sip.Uri // where NOTIFYs go (Request-URI)
	OurURI    sip.Uri // our Contact
	Dest      string  // source address of the SUBSCRIBE
	Transport string
}

// NewDialog builds the dialog of the initial SUBSCRIBE req with a fresh
// local tag; local is the From of our NOTIFYs, our our Contact. It returns
// false when req lacks a Contact, a Call-ID or a From tag (answer 400).
func NewDialog(req *sip.Request, local, our sip.Uri) (Dialog, bool) {
	c, from, cid := req.Contact(), req.From(), req.CallID()
	if c == nil || from == nil || cid == nil {
		return Dialog{}, false
	}
	rtag, ok := from.Params.Get("tag")
	if !ok || rtag == "" {
		return Dialog{}, false
	}
	return Dialog{CallID: cid.Value(), LocalTag: sip.GenerateTagN(16), RemoteTag: rtag,
		Local: local, Remote: from.Address, Contact: c.Address, OurURI: our,
		Dest: req.Source(), Transport: req.Transport()}, true
}

// Matches reports whether the in-dialog request req carries d's tags.
func (d *Dialog) Matches(req *sip.Request) bool {
	totag, _ := req.To().Params.Get("tag")
	fromtag, _ := req.From().Params.Get("tag")
	return totag == d.LocalTag && fromtag == d.RemoteTag
}

// OK is the 200 answering a SUBSCRIBE of d that runs for exp seconds.
func (d *Dialog) OK(req *sip.Request, exp int) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if to := res.To(); to != nil {
		// sipgo may have tagged the response already; the dialog's tag is ours.
		to.Params.Remove("tag")
		to.Params.Add("tag", d.LocalTag)
	}
	res.AppendHeader(&sip.ContactHeader{Address: d.OurURI})
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(exp)))
	return res
}

// Notify builds d's in-dialog NOTIFY number cseq (RFC 6665 4.2.2) of the
// event package event with Subscription-State state (see State) and body
// of type contentType.
func (d *Dialog) Notify(cseq uint32, event, state, contentType string, body []byte) *sip.Request {
	req := sip.NewRequest(sip.NOTIFY, d.Contact)
	if d.Dest != "" {
		req.SetDestination(d.Dest)
	}
	if d.Transport != "" {
		req.SetTransport(d.Transport)
	}
	from := &sip.FromHeader{Address: d.Local, Params: sip.NewParams()}
	from.Params.Add("tag", d.LocalTag)
	to := &sip.ToHeader{Address: d.Remote, Params: sip.NewParams()}
	to.Params.Add("tag", d.RemoteTag)
	callID := sip.CallIDHeader(d.CallID)
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.NOTIFY})
	req.AppendHeader(&maxFwd)
	req.AppendHeader(&sip.ContactHeader{Address: d.OurURI})
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	req.SetBody(body)
	return req
}

// State is a NOTIFY's Subscription-State: "active;expires=N" with the
// whole seconds left (rounded, never negative), or when final
// "terminated", with ";reason=" reason when there is one.
func State(final bool, reason string, left time.Duration) string {
	if !final {
		return "active;expires=" + strconv.Itoa(max(int(left.Seconds()+0.5), 0))
	}
	if reason != "" {
		return "terminated;reason=" + reason
	}
	return "terminated"
}

// Expiry bounds the duration of subscriptions, in seconds.
type Expiry struct {
	Min     int // shorter requests get 423 (default 60)
	Max     int // longer ones are capped (default 3600, at least Min)
	Default int // when a SUBSCRIBE has no Expires (default 3600, within Min..Max)
}

// Defaulted is e with its zero fields defaulted and Default within bounds.
func (e Expiry) Defaulted() Expiry {
	if e.Min <= 0 {
		e.Min = 60
	}
	if e.Max <= 0 {
		e.Max = 3600
	}
	e.Max = max(e.Max, e.Min)
	if e.Default <= 0 {
		e.Default = 3600
	}
	e.Default = min(max(e.Default, e.Min), e.Max)
	return e
}

// Read returns the expiry req asks for, capped at Max (0 unsubscribes);
// when it returns false it has answered 400 (unparseable) or 423 (shorter
// than Min).
func (e Expiry) Read(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger) (int, bool) {
	exp := e.Default
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || v < 0 {
			Reply(req, tx, log, sip.StatusBadRequest, "Bad Expires")
			return 0, false
		}
		exp = v
	}
	if exp > 0 && exp < e.Min {
		Reply(req, tx, log, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(e.Min)))
		return 0, false
	}
	return min(exp, e.Max), true
}

// Refresh checks req, a request in the dialog of a subscription to the
// event package pkg, and returns the expiry it asks for. d is the dialog of
// req's Call-ID, nil when there is none. When it returns false it has
// answered (nothing to an ACK): 481 when d is nil or the tags differ, 405
// to other methods than SUBSCRIBE, 489 (with Allow-Events allow) to another
// event package, 400 or 423 to a bad Expires.
func (e Expiry) Refresh(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger, d *Dialog, pkg, allow string) (int, bool) {
	switch {
	case req.IsAck():
		return 0, false
	case d == nil || !d.Matches(req):
		Reply(req, tx, log, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist")
		return 0, false
	case req.Method != sip.SUBSCRIBE:
		Reply(req, tx, log, sip.StatusMethodNotAllowed, "", sip.NewHeader("Allow", "SUBSCRIBE"))
		return 0, false
	case !CheckEvent(req, tx, log, pkg, allow):
		return 0, false
	}
	return e.Read(req, tx, log)
}

// CheckEvent reports whether req's event package is pkg, and answers 489
// with Allow-Events allow when it is not.
func CheckEvent(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger, pkg, allow string) bool {
	if EventPackage(req) == pkg {
		return true
	}
	Reply(req, tx, log, 489, "Bad Event", sip.NewHeader("Allow-Events", allow))
	return false
}

// Reply answers req with code and hdrs (signaling.NewResponse), with reason
// instead of the standard phrase when it is not empty.
func Reply(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger, code int, reason string, hdrs ...sip.Header) {
	res := signaling.NewResponse(req, code, hdrs...)
	if reason != "" {
		res.Reason = reason
	}
	signaling.Send(tx, res, log)
}

// EventPackage is the package of req's Event header (or its compact form
// o), lower case: "dialog" of "Dialog;id=x".
func EventPackage(req *sip.Request) string {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o")
	}
	if h == nil {
		return ""
	}
	pkg, _, _ := strings.Cut(h.Value(), ";")
	return strings.ToLower(strings.TrimSpace(pkg))
}

// Send runs the NOTIFY transaction req (retransmitted over UDP by sipgo)
// for at most Timeout or until ctx ends, and returns its final response.
func Send(ctx context.Context, srv *signaling.Server, req *sip.Request) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	res, err := srv.Client.Do(ctx, req)
	if err == nil && res == nil { // the transaction ended without an error or an answer
		err = errors.New("transaction ended")
	}
	return res, err
}

// Unsolicited sends a NOTIFY outside any subscription to the registered
// contact b (signaling.NewRequestTo) with the Event header event, the
// Subscription-State state and, when contentType is not empty, a body, and
// returns an error unless it is answered 2xx.
func Unsolicited(ctx context.Context, srv *signaling.Server, b hotdesk.Binding, event, state, contentType string, body []byte) error {
	req, err := srv.NewRequestTo(sip.NOTIFY, b)
	if err != nil {
		return err
	}
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
		req.SetBody(body)
	}
	res, err := Send(ctx, srv, req)
	if err != nil {
		return fmt.Errorf("notify %s: %w", b.Contact, err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("notify %s: %d %s", b.Contact, res.StatusCode, res.Reason)
	}
	return nil
}
