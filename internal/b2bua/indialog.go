package b2bua

import (
	"context"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// talkRequest handles one in-dialog request of a connected call and
// reports whether the call is over.
func (c *call) talkRequest(req *sip.Request, tx sip.ServerTransaction) bool {
	fromA := req.CallID().Value() == c.id
	l := c.byID[req.CallID().Value()]
	if !fromA && l != c.winner {
		if req.Method == sip.BYE {
			signaling.Respond(tx, req, sip.StatusOK, c.log) // a loser hanging up its crossed answer
		} else {
			signaling.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, c.log)
		}
		return false
	}
	switch req.Method {
	case sip.BYE:
		if fromA {
			if err := c.a.ReadBye(req, tx); err != nil {
				c.log.Debug("b2bua: caller bye", "err", err)
				signaling.Respond(tx, req, sip.StatusOK, c.log) // the call ends either way
			}
			c.byeLeg(c.winner)
		} else {
			if err := l.dlg.ReadBye(req, tx); err != nil {
				c.log.Debug("b2bua: callee bye", "err", err)
				signaling.Respond(tx, req, sip.StatusOK, c.log) // the call ends either way
			}
			c.byeCaller()
		}
		return true
	case sip.INVITE, sip.UPDATE, sip.INFO:
		var err error
		if fromA {
			err = c.a.ReadRequest(req, tx)
		} else {
			err = l.dlg.ReadRequest(req, tx)
		}
		if err != nil {
			signaling.Respond(tx, req, sip.StatusInternalServerError, c.log) // RFC 3261 14.2: CSeq out of order
			return false
		}
		c.relay(fromA, req, tx)
	case sip.OPTIONS:
		signaling.Respond(tx, req, sip.StatusOK, c.log)
	default:
		res := sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", allow))
		if err := tx.Respond(res); err != nil {
			c.log.Debug("b2bua: respond 405", "err", err)
		}
	}
	return false
}

// relay sends an in-dialog request (re-INVITE, UPDATE, INFO) to the other
// side and its final response back. It runs in its own goroutine (owned by
// the call through wg) so a slow far end does not hold up a BYE.
func (c *call) relay(fromA bool, req *sip.Request, tx sip.ServerTransaction) {
	var target sip.Uri
	far := c.a.InviteRequest.Transport() // for SRTP keys: the far side's signalling
	if fromA {
		target = contactOf(c.winner.dlg.InviteResponse, c.winner.req.Recipient)
		far = c.winner.req.Transport()
	} else {
		target = contactOf(c.a.InviteRequest, c.a.InviteRequest.From().Address)
	}
	out := sip.NewRequest(req.Method, target)
	if ct := req.ContentType(); ct != nil {
		out.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
	}
	for _, name := range []string{"Info-Package", "Session-Expires"} {
		if h := req.GetHeader(name); h != nil {
			out.AppendHeader(sip.NewHeader(name, h.Value()))
		}
	}
	out.SetBody(keysFor(req.Body(), far))
	winner := c.winner
	// A re-INVITE without SDP: the far end's 2xx offers and the asker's
	// ACK answers (RFC 3261 14.1), so the far end's ACK waits for it.
	var ackCh chan *sip.Request
	if req.Method == sip.INVITE && len(req.Body()) == 0 {
		ackCh = c.expectAck(req)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.relays, byeTimeout)
		defer cancel()
		if ackCh != nil {
			defer c.dropAck(req)
		}
		var res *sip.Response
		var err error
		if fromA {
			res, err = winner.dlg.Do(ctx, out)
		} else {
			res, err = c.a.Do(ctx, out)
		}
		if err == nil && res == nil {
			err = errNoResponse
		}
		if err != nil && c.relays.Err() != nil {
			signaling.Respond(tx, req, sip.StatusRequestTerminated, c.log) // the call ended meanwhile
			return
		}
		if err != nil {
			c.log.Info("b2bua: relay failed", "method", req.Method, "err", err)
			signaling.Respond(tx, req, sip.StatusRequestTimeout, c.log)
			return
		}
		ackFar := func(from *sip.Request) {
			ack := ackOf(out)
			if from != nil && len(from.Body()) > 0 {
				if ct := from.ContentType(); ct != nil {
					ack.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
				}
				ack.SetBody(keysFor(from.Body(), far))
			}
			if err := c.b.o.SIP.Client.WriteRequest(ack, sipgo.ClientRequestAddVia); err != nil {
				c.log.Debug("b2bua: ack relayed re-invite", "err", err)
			}
		}
		answerInAck := ackCh != nil && res.IsSuccess() && len(res.Body()) > 0
		if req.Method == sip.INVITE && res.IsSuccess() && !answerInAck {
			ackFar(nil)
		}
		back := sip.NewResponseFromRequest(req, res.StatusCode, res.Reason, keysFor(res.Body(), req.Transport()))
		if ct := res.ContentType(); ct != nil {
			back.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
		}
		if res.IsSuccess() && req.Method != sip.INFO {
			// Our Contact on the transport of the side that asked: a UDP
			// callee of a TCP caller (or the UDP trunk) must not be told
			// to come back over TCP.
			ct := c.aUA.ContactHDR
			if !fromA {
				ct = c.b.contact(winner.req.Transport())
			}
			back.AppendHeader(&ct)
		}
		if err := tx.Respond(back); err != nil {
			c.log.Debug("b2bua: respond relayed", "err", err)
		}
		if answerInAck {
			wait := time.NewTimer(64 * sip.T1)
			defer wait.Stop()
			var from *sip.Request
			select {
			case from = <-ackCh:
			case <-wait.C:
			case <-c.relays.Done():
			}
			ackFar(from)
		}
	}()
}

// ackOf is the ACK of a 2xx to inv, an in-dialog INVITE as sent: its
// CSeq number (RFC 3261 13.2.2.4), not the dialog's latest, which the
// dialog helpers would give it when another request went out meanwhile.
func ackOf(inv *sip.Request) *sip.Request {
	ack := sip.NewRequest(sip.ACK, inv.Recipient)
	mf := sip.MaxForwardsHeader(70)
	ack.AppendHeader(&mf)
	ack.AppendHeader(sip.HeaderClone(inv.From()))
	ack.AppendHeader(sip.HeaderClone(inv.To()))
	ack.AppendHeader(sip.HeaderClone(inv.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.ACK})
	sip.CopyHeaders("Route", inv, ack)
	if d := inv.Destination(); d != "" {
		ack.SetDestination(d)
	}
	ack.SetTransport(inv.Transport())
	ack.SetBody(nil)
	return ack
}

func ackKey(req *sip.Request) string {
	return req.CallID().Value() + " " + strconv.FormatUint(uint64(req.CSeq().SeqNo), 10)
}

// expectAck registers for the ACK of req (a relayed re-INVITE).
func (c *call) expectAck(req *sip.Request) chan *sip.Request {
	ch := make(chan *sip.Request, 1)
	c.reAcksMu.Lock()
	if c.reAcks == nil {
		c.reAcks = map[string]chan *sip.Request{}
	}
	c.reAcks[ackKey(req)] = ch
	c.reAcksMu.Unlock()
	return ch
}

func (c *call) dropAck(req *sip.Request) {
	c.reAcksMu.Lock()
	delete(c.reAcks, ackKey(req))
	c.reAcksMu.Unlock()
}

// takeAck hands an ACK to the relay waiting for it; false when none is.
func (c *call) takeAck(ack *sip.Request) bool {
	c.reAcksMu.Lock()
	ch := c.reAcks[ackKey(ack)]
	c.reAcksMu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case ch <- ack:
	default: // a retransmitted ACK
	}
	return true
}

// contactOf is the Contact URI of m, or fallback.
func contactOf(m interface{ Contact() *sip.ContactHeader }, fallback sip.Uri) sip.Uri {
	if h := m.Contact(); h != nil {
		return h.Address
	}
	return fallback
}

// HandleInDialog takes requests of the call's dialogs (caller's and legs').
// ACKs of the caller's INVITE are applied here, since the owner may be
// waiting for one; everything else goes to the owner in arrival order.
func (c *call) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if req.Method == sip.ACK {
		if c.takeAck(req) {
			return
		}
		if req.CallID().Value() == c.id && c.a != nil {
			if len(req.Body()) > 0 {
				select {
				case c.ackBody <- req:
				default:
				}
			}
			_ = c.a.ReadAck(req, tx) // ACKs of relayed re-INVITEs carry other CSeqs
		}
		return
	}
	ftx := &finalTx{ServerTransaction: tx, final: make(chan struct{})}
	if !c.post(inDialog{req: req, tx: ftx}) {
		if req.Method == sip.BYE {
			signaling.Respond(tx, req, sip.StatusOK, c.log)
			return
		}
		signaling.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, c.log)
		return
	}
	// sipgo ends the server transaction when this handler returns without
	// a final answer; the phone's retransmissions would then start new
	// transactions and be relayed again. Hold it until the owner or the
	// relay has answered (every path answers, bounded by the relay's
	// timeout and the call's cleanup).
	t := time.NewTimer(2 * byeTimeout)
	defer t.Stop()
	select {
	case <-ftx.final:
	case <-t.C:
		c.log.Warn("b2bua: in-dialog request not answered in time", "method", req.Method)
	}
}

// finalTx is a server transaction that reports its final answer.
type finalTx struct {
	sip.ServerTransaction
	once  sync.Once
	final chan struct{}
}

func (t *finalTx) Respond(res *sip.Response) error {
	err := t.ServerTransaction.Respond(res)
	if !res.IsProvisional() {
		t.once.Do(func() { close(t.final) })
	}
	return err
}
