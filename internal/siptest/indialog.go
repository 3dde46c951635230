package siptest

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Answer answers an incoming call that is ringing (AnswerRing mode).
func (in *Incoming) Answer() { in.decide(sip.StatusOK) }

// Reject ends an incoming call that is ringing (AnswerRing mode) with
// status, e.g. 486 or 603.
func (in *Incoming) Reject(status int) { in.decide(status) }

func (in *Incoming) decide(status int) {
	select {
	case in.act <- status:
	default:
	}
}

// Hangup sends BYE on an answered incoming call.
func (in *Incoming) Hangup() error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	if err := in.dlg.Bye(ctx); err != nil {
		return fmt.Errorf("siptest: bye: %w", err)
	}
	in.markEnded()
	return nil
}

// Send sends an in-dialog request (re-INVITE, UPDATE, INFO) from the
// called phone and returns the final status; a 2xx to a re-INVITE is ACKed.
func (in *Incoming) Send(method sip.RequestMethod, contentType string, body []byte) (int, error) {
	req := sip.NewRequest(method, in.Request.Contact().Address)
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
		req.SetBody(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	res, err := in.dlg.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("siptest: %s: %w", method, err)
	}
	in.mu.Lock()
	in.responses = append(in.responses, res)
	in.mu.Unlock()
	if method == sip.INVITE && res.IsSuccess() {
		_ = in.dlg.WriteRequest(sip.NewRequest(sip.ACK, in.Request.Contact().Address))
	}
	return res.StatusCode, nil
}

// Received returns the in-dialog requests (re-INVITE, UPDATE, INFO, and
// an ACK that carries an SDP answer) the PBX sent on this incoming call.
func (in *Incoming) Received() []*sip.Request {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]*sip.Request(nil), in.inDlg...)
}

// Responses returns the final responses to the requests Send sent.
func (in *Incoming) Responses() []*sip.Response {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]*sip.Response(nil), in.responses...)
}

// Received returns the in-dialog requests (re-INVITE, UPDATE, INFO) the
// PBX sent on this call.
func (c *Call) Received() []*sip.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*sip.Request(nil), c.inDlg...)
}

// SetReofferStatus sets how the phone answers re-INVITEs and UPDATEs:
// 0 (the default) accepts them, a status such as 488 or 491 refuses them,
// -1 leaves them unanswered. INFO is always accepted (unless -1).
func (p *Phone) SetReofferStatus(status int) {
	p.mu.Lock()
	p.reoffer = status
	p.mu.Unlock()
}

// SetReofferDelay makes the phone wait d before it answers a re-INVITE,
// UPDATE or INFO (a user asked to accept video, a slow far end).
func (p *Phone) SetReofferDelay(d time.Duration) {
	p.mu.Lock()
	p.reofferDelay = d
	p.mu.Unlock()
}

// onReoffer records an in-dialog re-INVITE, UPDATE or INFO on a known
// call and answers 200 (with the phone's SDP when the request had an
// offer). It reports false when the Call-ID is unknown.
func (p *Phone) onReoffer(req *sip.Request, tx sip.ServerTransaction) bool {
	id := req.CallID().Value()
	p.mu.Lock()
	c := p.calls[id]
	p.mu.Unlock()
	in := p.inCalls(id)
	var body []byte
	switch {
	case c != nil:
		c.mu.Lock()
		c.inDlg = append(c.inDlg, req)
		c.mu.Unlock()
		body = c.Media.Offer()
	case in != nil:
		in.mu.Lock()
		in.inDlg = append(in.inDlg, req)
		in.mu.Unlock()
		p.mu.Lock()
		if in.Media != nil {
			body = in.Media.Offer()
		}
		p.mu.Unlock()
	default:
		return false
	}
	p.mu.Lock()
	status, delay := p.reoffer, p.reofferDelay
	p.mu.Unlock()
	time.Sleep(delay)
	switch {
	case status < 0:
		// Never answered, not even after a BYE (RFC 3261 15.1.2 asks
		// for a 487): the handler holds the transaction, as sipgo ends it
		// when the handler returns, so retransmissions are absorbed.
		time.Sleep(DefaultTimeout)
		return true
	case status > 0 && req.Method != sip.INFO:
		_ = tx.Respond(sip.NewResponseFromRequest(req, status, "Refused", nil))
		return true
	}
	var res *sip.Response
	offerless := req.Method == sip.INVITE && len(req.Body()) == 0 // our 200 must offer (RFC 3261 14.2)
	if (len(req.Body()) > 0 || offerless) && req.Method != sip.INFO && body != nil {
		res = sip.NewSDPResponseFromRequest(req, body)
	} else {
		res = sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	}
	res.AppendHeader(&sip.ContactHeader{Address: p.contactHeader().Address})
	_ = tx.Respond(res)
	return true
}
