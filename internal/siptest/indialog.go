package siptest

import (
	"context"
	"fmt"

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
	var res *sip.Response
	if len(req.Body()) > 0 && req.Method != sip.INFO && body != nil {
		res = sip.NewSDPResponseFromRequest(req, body)
	} else {
		res = sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	}
	res.AppendHeader(&sip.ContactHeader{Address: p.contactHeader().Address})
	_ = tx.Respond(res)
	return true
}
