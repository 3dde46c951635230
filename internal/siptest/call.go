package siptest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
)

// DialOptions tunes Dial.
type DialOptions struct {
	// PayloadTypes offered, in order ("0", "8"); default PCMU then PCMA.
	PayloadTypes []string
	// NoSDP sends the INVITE without an offer (the PBX offers in its 200
	// and the phone answers in the ACK).
	NoSDP bool
	// OnResponse, if set, sees every response to the INVITE (provisional
	// ones included) as it arrives.
	OnResponse func(*sip.Response)
	// Headers are added to the INVITE (Max-Forwards, P-Asserted-Identity,
	// ...); a header named here replaces the phone's own of that name.
	Headers []sip.Header
	// URI, if set, is the Request-URI instead of sip:number@server (a
	// tel: URI, an escaped user part).
	URI *sip.Uri
	// NoCN leaves comfort noise out of the SDP offer.
	NoCN bool
}

// Call is an outgoing call of the phone.
type Call struct {
	p      *Phone
	dlg    *sipgo.DialogClientSession
	Media  *mediatest.Phone
	CallID string
	// Response is the final response to the INVITE (200 OK on success).
	Response *sip.Response

	endOnce sync.Once
	ended   chan struct{}
	mu      sync.Mutex
	byeAt   time.Time
	inDlg   []*sip.Request // in-dialog requests the PBX sent
}

// Dial calls number at the PBX, answering a 401/407 challenge once, and
// ACKs the 200. A non-2xx final response is returned as an error wrapping
// *sipgo.ErrDialogResponse, with Call.Response set.
func (p *Phone) Dial(number string) (*Call, error) { return p.DialWith(number, DialOptions{}) }

// MustCallAndHangUp dials number, fails the test unless it is answered,
// keeps the call up for 100 ms and hangs up.
func (p *Phone) MustCallAndHangUp(tb testing.TB, number string) {
	tb.Helper()
	c, err := p.Dial(number)
	if err != nil {
		tb.Fatalf("dial %s: %v", number, err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := c.Hangup(); err != nil {
		tb.Fatal(err)
	}
}

// DialWith is Dial with options.
func (p *Phone) DialWith(number string, o DialOptions) (*Call, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	return p.DialContext(ctx, number, o)
}

// DialContext is DialWith bounded by ctx instead of DefaultTimeout:
// cancelling ctx before the answer sends CANCEL.
func (p *Phone) DialContext(ctx context.Context, number string, o DialOptions) (*Call, error) {
	m := mediatest.NewPhone(p.tb)
	m.NoCN = o.NoCN
	ruri := p.serverURI(number)
	if o.URI != nil {
		ruri = *o.URI
	}
	req := sip.NewRequest(sip.INVITE, ruri)
	req.SetDestination(p.opts.Server)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.opts.User, Host: p.opts.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: number, Host: p.opts.Domain}})
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	if !o.NoSDP {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(m.Offer(o.PayloadTypes...))
	}
	for _, h := range o.Headers {
		req.RemoveHeader(h.Name())
		req.AppendHeader(h)
	}
	c := &Call{p: p, Media: m, ended: make(chan struct{})}
	var onRes func(*sip.Response) error
	if o.OnResponse != nil {
		onRes = func(r *sip.Response) error { o.OnResponse(r); return nil }
	}
	for attempt := 0; ; attempt++ {
		dlg, err := p.dua.WriteInvite(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("siptest: invite: %w", err)
		}
		c.dlg, c.CallID = dlg, req.CallID().Value()
		p.track(c)
		err = waitAnswer(ctx, dlg, onRes)
		if err == nil && ctx.Err() != nil {
			// Answered although we cancelled: the 200 crossed our CANCEL
			// (RFC 3261 9.1) and wins, so acknowledge it and hang up.
			p.untrack(c)
			ackBye(dlg)
			return nil, fmt.Errorf("siptest: dial %s: answered after cancel: %w", number, ctx.Err())
		}
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			c.Response = de.Res
			code := de.Res.StatusCode
			if (code == sip.StatusProxyAuthRequired || code == sip.StatusUnauthorized) && attempt == 0 {
				chal, cred := "Proxy-Authenticate", "Proxy-Authorization"
				if code == sip.StatusUnauthorized {
					chal, cred = "WWW-Authenticate", "Authorization"
				}
				if err := p.authorize(req, de.Res, chal, cred); err != nil {
					return nil, err
				}
				req.CSeq().SeqNo++
				continue
			}
			p.untrack(c)
			return c, fmt.Errorf("siptest: dial %s: %w", number, err)
		}
		if err != nil {
			p.untrack(c)
			if r := dlg.InviteResponse; r != nil && r.IsSuccess() {
				ackBye(dlg) // the answer crossed our CANCEL and wins
			}
			return nil, fmt.Errorf("siptest: dial %s: %w", number, err)
		}
		break
	}
	c.Response = c.dlg.InviteResponse
	return c, c.ack(ctx, o.NoSDP)
}

// ack applies the PBX's SDP and sends the ACK (with our answer when the
// PBX made the offer).
// waitAnswer waits for the final answer to dlg's INVITE. When ctx ends
// first it sends the CANCEL itself (once a provisional response has come,
// RFC 3261 9.1) and keeps waiting for the final answer, at most 64*T1.
// sipgo's own cancel returns as soon as the CANCEL is answered 481 — what
// the PBX answers when its 200 is already on the wire — and that 200 would
// never be ACKed nor hung up.
func waitAnswer(ctx context.Context, dlg *sipgo.DialogClientSession, onRes func(*sip.Response) error) error {
	var mu sync.Mutex
	var cancelReq *sip.Request // set at the first provisional response
	prov := make(chan struct{}, 1)
	answered, done := make(chan struct{}), make(chan struct{})
	wait, stopWait := context.WithCancelCause(context.Background())
	defer stopWait(nil)
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		limit := time.NewTimer(64 * sip.T1)
		defer limit.Stop()
		for {
			mu.Lock()
			req := cancelReq
			mu.Unlock()
			if req != nil {
				cctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
				sendCancel(cctx, dlg, req)
				cancel()
				break
			}
			select {
			case <-prov:
			case <-answered:
				return
			case <-limit.C:
				stopWait(sipgo.WaitAnswerForceCancelErr)
				return
			}
		}
		select {
		case <-answered:
		case <-limit.C:
			stopWait(sipgo.WaitAnswerForceCancelErr)
		}
	})
	err := dlg.WaitAnswer(wait, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		if r.IsProvisional() {
			mu.Lock()
			if cancelReq == nil {
				cancelReq = cancelOf(dlg.InviteRequest)
			}
			mu.Unlock()
			select {
			case prov <- struct{}{}:
			default:
			}
		}
		if onRes != nil {
			return onRes(r)
		}
		return nil
	}})
	close(answered)
	if !stop() {
		<-done
	}
	if err != nil && ctx.Err() != nil && !errors.As(err, new(*sipgo.ErrDialogResponse)) {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// cancelOf is the CANCEL of inv (RFC 3261 9.1).
// sendCancel sends the CANCEL req (cancelOf: complete) through dlg's
// client, not the dialog's Do: Do fills a request from the dialog's INVITE
// response, which WaitAnswer writes meanwhile (a data race under -race),
// and a CANCEL needs nothing of it. It waits for the final response.
func sendCancel(ctx context.Context, dlg *sipgo.DialogClientSession, req *sip.Request) {
	tx, err := dlg.UA.Client.TransactionRequest(ctx, req, func(_ *sipgo.Client, r *sip.Request) error {
		if r.Body() == nil {
			r.SetBody(nil) // Content-Length: 0
		}
		return nil
	})
	if err != nil {
		return
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if !res.IsProvisional() {
				return
			}
		case <-tx.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}

func cancelOf(inv *sip.Request) *sip.Request {
	r := sip.NewRequest(sip.CANCEL, inv.Recipient)
	r.AppendHeader(sip.HeaderClone(inv.Via()))
	r.AppendHeader(sip.HeaderClone(inv.From()))
	r.AppendHeader(sip.HeaderClone(inv.To()))
	r.AppendHeader(sip.HeaderClone(inv.CallID()))
	r.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	r.AppendHeader(&mf)
	sip.CopyHeaders("Route", inv, r)
	r.SetDestination(inv.Destination())
	r.SetTransport(inv.Transport())
	r.Laddr = inv.Laddr
	return r
}

// ackBye acknowledges an unwanted 200 and hangs up at once.
func ackBye(dlg *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	_ = dlg.Ack(ctx)
	_ = dlg.Bye(ctx)
}

func (c *Call) ack(ctx context.Context, answerInAck bool) error {
	if err := c.Media.SetAnswer(c.Response.Body()); err != nil {
		return err
	}
	if !answerInAck {
		return c.dlg.Ack(ctx)
	}
	ack := sip.NewRequest(sip.ACK, c.Response.Contact().Address)
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(c.Media.Offer("0"))
	// Build like sipgo's own ACK: dialog headers come from buildReq.
	ack.AppendHeader(sip.HeaderClone(c.dlg.InviteRequest.From()))
	ack.AppendHeader(sip.HeaderClone(c.Response.To()))
	ack.AppendHeader(sip.HeaderClone(c.dlg.InviteRequest.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: c.dlg.InviteRequest.CSeq().SeqNo, MethodName: sip.ACK})
	return c.dlg.WriteAck(ctx, ack)
}

func (p *Phone) track(c *Call) {
	p.mu.Lock()
	p.calls[c.CallID] = c
	p.mu.Unlock()
}

func (p *Phone) untrack(c *Call) {
	p.mu.Lock()
	delete(p.calls, c.CallID)
	p.mu.Unlock()
}

// onBye ends the call the PBX hangs up.
func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	c := p.calls[req.CallID().Value()]
	in := p.inCalls(req.CallID().Value())
	p.mu.Unlock()
	switch {
	case c != nil:
		_ = c.dlg.ReadBye(req, tx)
		c.markEnded()
		p.untrack(c)
	case in != nil:
		_ = in.dlg.ReadBye(req, tx)
		in.markEnded()
	default:
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	}
}

func (c *Call) markEnded() {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.byeAt = time.Now()
		c.mu.Unlock()
		close(c.ended)
	})
}

// Ended is closed when the PBX has hung up (or Hangup was called).
func (c *Call) Ended() <-chan struct{} { return c.ended }

// ByeAt is when the PBX's BYE arrived (zero if it has not).
func (c *Call) ByeAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byeAt
}

// WaitBye waits for the PBX to hang up.
func (c *Call) WaitBye(timeout time.Duration) error {
	return waitClosed(c.ended, timeout, "no BYE")
}

// waitClosed waits up to timeout for ch to be closed; the error says
// what did not happen.
func waitClosed(ch <-chan struct{}, timeout time.Duration, what string) error {
	select {
	case <-ch:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("siptest: %s within %v", what, timeout)
	}
}

// Hangup sends BYE unless the call has ended already.
func (c *Call) Hangup() error {
	select {
	case <-c.ended:
		return nil
	default:
	}
	c.markEnded()
	c.p.untrack(c)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	if err := c.dlg.Bye(ctx); err != nil {
		return fmt.Errorf("siptest: bye: %w", err)
	}
	return nil
}

// SendInfo sends one key as SIP INFO: application/dtmf-relay when relay,
// else application/dtmf. It returns the response status.
func (c *Call) SendInfo(key rune, relay bool) (int, error) {
	req := sip.NewRequest(sip.INFO, c.Response.Contact().Address)
	if relay {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte(fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", key)))
	} else {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf"))
		req.SetBody([]byte(string(key)))
	}
	return c.request(req)
}

// SendKeysInfo sends keys as INFO (dtmf-relay), each answered before the next.
func (c *Call) SendKeysInfo(keys string) error {
	for _, k := range keys {
		code, err := c.SendInfo(k, true)
		if err != nil {
			return err
		}
		if code != sip.StatusOK {
			return fmt.Errorf("siptest: INFO %c: status %d", k, code)
		}
	}
	return nil
}

// SendKeysRTP sends keys as RFC 4733 telephone-events.
func (c *Call) SendKeysRTP(keys string) error { return c.Media.SendDigits(keys) }

// Request sends an in-dialog request of method with an optional body and
// returns the final status (for re-INVITE, UPDATE, OPTIONS, MESSAGE tests).
func (c *Call) Request(method sip.RequestMethod, contentType string, body []byte) (int, error) {
	req := sip.NewRequest(method, c.Response.Contact().Address)
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
		req.SetBody(body)
	}
	return c.request(req)
}

// ReinviteWithoutOffer sends a re-INVITE without SDP (RFC 3261 14.1): the
// 2xx carries the other side's offer and the ACK our answer. It returns
// the final status and the offer received.
func (c *Call) ReinviteWithoutOffer() (int, []byte, error) {
	req := sip.NewRequest(sip.INVITE, c.Response.Contact().Address)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	res, err := c.dlg.Do(ctx, req)
	if err != nil {
		return 0, nil, fmt.Errorf("siptest: offerless re-INVITE: %w", err)
	}
	if res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, c.Response.Contact().Address)
		ack.AppendHeader(sip.HeaderClone(res.CSeq()))
		ack.CSeq().MethodName = sip.ACK
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ack.SetBody(c.Media.Offer("0"))
		_ = c.dlg.WriteRequest(ack)
	}
	return res.StatusCode, res.Body(), nil
}

func (c *Call) request(req *sip.Request) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	res, err := c.dlg.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("siptest: %s: %w", req.Method, err)
	}
	if req.Method == sip.INVITE && res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, c.Response.Contact().Address)
		ack.AppendHeader(sip.HeaderClone(res.CSeq()))
		ack.CSeq().MethodName = sip.ACK
		_ = c.dlg.WriteRequest(ack)
	}
	return res.StatusCode, nil
}

// Record records the prompt audio the PBX sends (see mediatest.Phone.Record).
func (c *Call) Record(quiet, limit time.Duration) *mediatest.Recording {
	return c.Media.Record(quiet, limit)
}
