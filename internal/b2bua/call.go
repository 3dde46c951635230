package b2bua

import (
	"context"
	"errors"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
)

// Call states for LiveCall.State (the RFC 4235 names presence uses).
const (
	StateTrying    = "trying"
	StateEarly     = "early"
	StateConfirmed = "confirmed"
)

// eventBuffer is how many leg outcomes and in-dialog requests may wait for
// a call's owner goroutine; senders wait (bounded by the call's end).
const eventBuffer = 16

// party is one end of a call.
type party struct {
	Ext    string // user's extension; "" when not a user (trunk caller, neutral phone)
	Name   string // display name
	Number string // number shown to the other side (extension, E.164, callback)
	Device string // device used ("" for the trunk)
}

// call is one bridged call: the caller's leg (a) and the outgoing legs
// forked to the callee's phones or the trunk. The goroutine running
// HandleInvite owns every field not under mu.
type call struct {
	b       *B2BUA
	id      string // caller's Call-ID
	log     *slog.Logger
	aUA     *sipgo.DialogUA
	a       *sipgo.DialogServerSession
	atx     sip.ServerTransaction // the caller's INVITE transaction
	caller  party
	callee  party
	dialled string
	emerg   bool
	hop     bool   // this node's hop of another node's call (HandleNodeInvite)
	mailbox string // callee's extension when they have voicemail: unanswered calls go there
	ring    time.Duration
	legs    []*leg
	byID    map[string]*leg
	winner  *leg
	ev      chan any
	ackBody chan *sip.Request // the caller's ACK when it carries the answer (offerless INVITE)
	done    chan struct{}
	wg      sync.WaitGroup // leg goroutines and relays
	// relays bounds the relayed in-dialog requests: cancelled when the
	// call ends, so a re-INVITE the far end sits on does not hold the
	// call's cleanup (and the caller's answer) for byeTimeout.
	relays     context.Context
	stopRelays context.CancelFunc
	// reAcks wait for the ACKs of relayed offerless re-INVITEs, by
	// Call-ID and CSeq (the ACK carries the answer for the far end).
	reAcksMu sync.Mutex
	reAcks   map[string]chan *sip.Request

	recs      []*callRec // caller's (outbound) and callee's (inbound), when users
	result    string
	ringing   bool // 180 relayed
	early     bool // 183 with SDP relayed
	answerDev string
	calleeRec bool // callee's record written

	media   *relay.Session // the call's anchored media; nil when direct
	srtp    *legSRTP       // SRTP terminated per leg when anchored
	noMedia time.Duration  // end the anchored call after this long without media; 0 never

	mu    sync.Mutex
	state string
	since time.Time
}

// leg is one outgoing INVITE: to one contact of a phone, or to the trunk.
type leg struct {
	c      *call
	device string // device rung; "" for the trunk
	req    *sip.Request
	user   string // digest credentials for the trunk
	pass   string
	callID string
	ctx    context.Context
	cancel context.CancelFunc
	udp    *sip.Request // an emergency INVITE's UDP copy, sent when req's TCP/TLS connection fails
	sent   func()       // run (in its own goroutine) once the INVITE was sent or failed to be: an emergency call's alerts

	dlg   *sipgo.DialogClientSession // set before the first event about the leg
	done  bool                       // owner only
	final int                        // owner only: final non-2xx status, 0 for none
}

type legProgress struct {
	l   *leg
	res *sip.Response
}

type legDone struct {
	l   *leg
	err error
}

type inDialog struct {
	req *sip.Request
	tx  sip.ServerTransaction
}

func (b *B2BUA) newCall(req *sip.Request, caller, callee party, dialled string) *call {
	c := &call{
		b: b, id: req.CallID().Value(), caller: caller, callee: callee, dialled: dialled,
		aUA: b.dialogUA(req.Transport()), byID: map[string]*leg{},
		ev: make(chan any, eventBuffer), ackBody: make(chan *sip.Request, 1), done: make(chan struct{}), state: StateTrying,
		result: hotdesk.ResultFailed,
	}
	c.relays, c.stopRelays = context.WithCancel(context.Background())
	c.log = withLazy(b.log, "call_id", c.id, "from", caller.Number, "to", dialled)
	return c
}

// addLeg prepares an outgoing INVITE (not yet sent).
func (c *call) addLeg(device string, req *sip.Request, user, pass string) *leg {
	ctx, cancel := context.WithCancel(context.Background())
	l := &leg{c: c, device: device, req: req, user: user, pass: pass, callID: req.CallID().Value(), ctx: ctx, cancel: cancel}
	c.legs = append(c.legs, l)
	c.byID[l.callID] = l
	return l
}

// post hands e to the owner; false when the call is over.
func (c *call) post(e any) bool {
	select {
	case c.ev <- e:
		return true
	case <-c.done:
		return false
	}
}

// bridge answers nothing itself: it rings the legs, relays progress, and
// connects the first answer to the caller, then relays the dialog until a
// BYE. It returns when the call is over and everything is cleaned up.
func (c *call) bridge(req *sip.Request, tx sip.ServerTransaction) {
	var err error
	if c.a, err = c.aUA.ReadInvite(req, tx); err != nil {
		c.log.Debug("b2bua: read invite", "err", err)
		signaling.Respond(tx, req, sip.StatusBadRequest, c.b.log)
		return
	}
	c.atx = tx
	if err := c.anchorMedia(req); err != nil {
		c.log.Warn("b2bua: no media relay for the call", "err", err)
		signaling.Respond(tx, req, sip.StatusServiceUnavailable, c.b.log)
		return
	}
	c.since = c.b.o.Now()
	c.b.addCall(c)
	c.b.o.SIP.AddDialog(c.id, c)
	for _, l := range c.legs {
		c.b.o.SIP.AddDialog(l.callID, c)
	}
	defer c.cleanup()
	c.start()
	if c.ringPhase() {
		c.talkPhase()
	}
}

// ringPhase sends the INVITEs and waits for the first answer, a final
// failure of every leg, the ring timeout or the caller's CANCEL. It
// reports whether the call was answered.
func (c *call) ringPhase() bool {
	if len(c.legs) == 0 {
		c.result = hotdesk.ResultNoAnswer // logged in nowhere, nothing registered
		c.rejectOrVoicemail(sip.StatusTemporarilyUnavailable)
		return false
	}
	for _, l := range c.legs {
		c.wg.Add(1)
		go l.run()
	}
	timer := time.NewTimer(c.ring)
	defer timer.Stop()
	for {
		select {
		case <-c.a.Context().Done():
			c.cancelLegs(nil)
			c.result = hotdesk.ResultCancelled
			return false
		case <-timer.C:
			c.cancelLegs(nil)
			c.result = hotdesk.ResultNoAnswer
			c.rejectOrVoicemail(sip.StatusTemporarilyUnavailable)
			return false
		case <-c.b.quit:
			c.cancelLegs(nil)
			c.reject(sip.StatusServiceUnavailable)
			return false
		case e := <-c.ev:
			switch e := e.(type) {
			case legProgress:
				c.progress(e.l, e.res)
			case legDone:
				if answered, over := c.legDone(e); answered || over {
					return answered
				}
			case inDialog:
				// Nothing but the ACK (handled in HandleInDialog) belongs to
				// a dialog that is not up yet.
				signaling.Respond(e.tx, e.req, sip.StatusCallTransactionDoesNotExists, c.log)
			}
		}
	}
}

// progress relays a provisional response: the first 183 with SDP as
// early media (SDP unchanged), otherwise one 180.
func (c *call) progress(l *leg, res *sip.Response) {
	body := res.Body()
	switch {
	case len(body) > 0 && !c.early:
		c.early = true
		hdrs := []sip.Header{}
		if ct := res.ContentType(); ct != nil {
			hdrs = append(hdrs, sip.NewHeader("Content-Type", ct.Value()))
		}
		c.answeringLeg(l)
		body = keysFor(c.sdpFrom(relay.B, body, l.req.Destination()), c.a.InviteRequest.Transport())
		if err := c.a.Respond(sip.StatusSessionInProgress, "Session Progress", body, hdrs...); err != nil {
			c.log.Debug("b2bua: relay 183", "err", err)
		}
	case len(body) == 0 && !c.ringing && !c.early:
		c.ringing = true
		if err := c.a.Respond(sip.StatusRinging, "Ringing", nil); err != nil {
			c.log.Debug("b2bua: relay 180", "err", err)
		}
	}
	if c.state == StateTrying {
		c.publish(events.KindCallEarly)
	}
}

// legDone takes a leg's final outcome. The first answer is connected to
// the caller and the other legs are cancelled; when every leg has failed
// the caller gets 486 if anyone was busy, else 480.
func (c *call) legDone(e legDone) (answered, over bool) {
	l := e.l
	l.done = true
	if e.err == nil {
		if c.winner != nil || c.a.Context().Err() != nil {
			c.ackBye(l)
			return false, false
		}
		return c.connect(l)
	}
	var de *sipgo.ErrDialogResponse
	if errors.As(e.err, &de) {
		l.final = de.Res.StatusCode
	}
	c.log.Debug("b2bua: leg failed", "device", l.device, "status", l.final, "err", e.err)
	for _, x := range c.legs {
		if !x.done {
			return false, false
		}
	}
	if len(c.legs) == 1 && l.device == "" && l.final >= 400 {
		// The trunk's answer goes back as it came, reason phrase included.
		c.result = resultOf(l.final)
		c.respondFinal(l.final, de.Res.Reason)
		return false, true
	}
	status, result := sip.StatusTemporarilyUnavailable, hotdesk.ResultNoAnswer
	for _, x := range c.legs {
		switch resultOf(x.final) {
		case hotdesk.ResultBusy:
			status, result = sip.StatusBusyHere, hotdesk.ResultBusy
		case hotdesk.ResultRejected:
			if result != hotdesk.ResultBusy {
				status, result = sip.StatusGlobalDecline, hotdesk.ResultRejected
			}
		}
	}
	c.result = result
	c.rejectOrVoicemail(status)
	return false, true
}

// connect answers the caller with the winning leg's SDP. When the caller
// sent no offer, the callee's 200 carries the offer and the caller's ACK
// the answer, which goes on in the callee's ACK.
func (c *call) connect(l *leg) (answered, over bool) {
	c.winner = l
	c.answeringLeg(l)
	c.cancelLegs(l)
	offerless := len(c.a.InviteRequest.Body()) == 0
	if !offerless {
		c.ackLeg(l, nil)
	}
	inv := l.dlg.InviteResponse
	res := sip.NewResponseFromRequest(c.a.InviteRequest, sip.StatusOK, "OK", keysFor(c.sdpFrom(relay.B, inv.Body(), l.req.Destination()), c.a.InviteRequest.Transport()))
	if ct := inv.ContentType(); ct != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
	}
	res.AppendHeader(sip.NewHeader("Allow", allow))
	c.answered(l)
	err := c.a.WriteResponse(res)
	if offerless {
		var ack *sip.Request
		select {
		case ack = <-c.ackBody:
		default:
		}
		c.ackLeg(l, ack)
	}
	if err != nil {
		c.log.Info("b2bua: caller gone at answer", "err", err)
		c.byeLeg(l)
		c.result = hotdesk.ResultCancelled
		return false, true
	}
	return true, false
}

// ackLeg acknowledges the leg's 200, with the body of from (the caller's
// ACK) when given.
func (c *call) ackLeg(l *leg, from *sip.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	var err error
	if from == nil || len(from.Body()) == 0 {
		err = l.dlg.Ack(ctx)
	} else {
		d := l.dlg
		ack := sip.NewRequest(sip.ACK, contactOf(d.InviteResponse, l.req.Recipient))
		if ct := from.ContentType(); ct != nil {
			ack.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
		}
		ack.SetBody(keysFor(c.sdpFrom(relay.A, from.Body(), from.Source()), l.req.Transport()))
		ack.AppendHeader(sip.HeaderClone(d.InviteRequest.From()))
		ack.AppendHeader(sip.HeaderClone(d.InviteResponse.To()))
		ack.AppendHeader(sip.HeaderClone(d.InviteRequest.CallID()))
		ack.AppendHeader(&sip.CSeqHeader{SeqNo: d.InviteRequest.CSeq().SeqNo, MethodName: sip.ACK})
		err = d.WriteAck(ctx, ack)
	}
	if err != nil {
		c.log.Warn("b2bua: ack callee", "err", err)
	}
}

// talkPhase relays in-dialog requests until a BYE from either side, the
// maximum call duration (a call whose BYEs were lost must not live for
// ever) or shutdown.
func (c *call) talkPhase() {
	limit := time.NewTimer(c.b.o.MaxCallDuration)
	defer limit.Stop()
	idle, stopIdle := c.noMediaTicker()
	defer stopIdle()
	for {
		select {
		case <-idle:
			if c.mediaGone() {
				c.log.Info("b2bua: no media on the anchored call: hanging up", "timeout", c.noMedia)
				c.result = hotdesk.ResultNoMedia
				c.byeLeg(c.winner)
				c.byeCaller()
				return
			}
		case <-limit.C:
			c.log.Info("b2bua: call reached the maximum duration", "max", c.b.o.MaxCallDuration)
			c.byeLeg(c.winner)
			c.byeCaller()
			return
		case <-c.b.quit:
			c.byeLeg(c.winner)
			c.byeCaller()
			return
		case e := <-c.ev:
			switch e := e.(type) {
			case legDone:
				if e.err == nil && e.l != c.winner {
					c.ackBye(e.l) // answered after we had a winner
				}
			case inDialog:
				if c.talkRequest(e.req, e.tx) {
					return
				}
			}
		}
	}
}

// cancelLegs cancels every leg but keep (CANCEL for the ringing ones).
func (c *call) cancelLegs(keep *leg) {
	for _, l := range c.legs {
		if l != keep {
			l.cancel()
		}
	}
}

// resultOf classifies a leg's final failure for the call records.
func resultOf(status int) string {
	switch status {
	case sip.StatusBusyHere, sip.StatusGlobalBusyEverywhere:
		return hotdesk.ResultBusy
	case sip.StatusGlobalDecline, sip.StatusForbidden:
		return hotdesk.ResultRejected
	case sip.StatusTemporarilyUnavailable, sip.StatusRequestTimeout, 0:
		return hotdesk.ResultNoAnswer
	}
	return hotdesk.ResultFailed
}

// reject sends the caller a final failure.
func (c *call) reject(status int) { c.respondFinal(status, signaling.Reason(status)) }

// respondFinal sends the caller a final non-2xx answer without waiting
// for its ACK: the INVITE server transaction retransmits the answer and
// absorbs the ACK itself (RFC 3261 17.2.1), whereas
// DialogServerSession.Respond waits for the ACK, for Timer H (32 s) when
// the caller has vanished, and the call with it.
func (c *call) respondFinal(status int, reason string) {
	res := sip.NewResponseFromRequest(c.a.InviteRequest, status, reason, nil)
	if err := c.atx.Respond(res); err != nil {
		c.log.Debug("b2bua: final answer", "status", status, "err", err)
	}
}

// ackBye ends a leg that answered but lost (or answered after CANCEL).
func (c *call) ackBye(l *leg) {
	ackBye(l.dlg, c.log)
}

func ackBye(dlg *sipgo.DialogClientSession, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := dlg.Ack(ctx); err != nil {
		log.Debug("b2bua: ack loser", "err", err)
	}
	if err := dlg.Bye(ctx); err != nil {
		log.Debug("b2bua: bye loser", "err", err)
	}
}

func (c *call) byeLeg(l *leg) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := l.dlg.Bye(ctx); err != nil {
		c.log.Debug("b2bua: bye callee", "err", err)
	}
}

func (c *call) byeCaller() {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := c.a.Bye(ctx); err != nil {
		c.log.Debug("b2bua: bye caller", "err", err)
	}
}

// run sends the leg's INVITE and reports its provisional responses and its
// outcome to the owner. An answer that crosses our CANCEL, or arrives when
// the call is over, is acknowledged and hung up here.
func (l *leg) run() {
	defer l.c.wg.Done()
	dlg, err := l.c.b.dialogUA(l.req.Transport()).WriteInvite(l.ctx, l.req)
	if err != nil && l.udp != nil && l.ctx.Err() == nil {
		// RFC 3261 18.1.1: a request moved to TCP (or a TCP/TLS trunk)
		// may go over UDP when the connection is refused.
		l.c.log.Warn("b2bua: emergency INVITE: no connection to the trunk, sending it over UDP", "transport", l.req.Transport(), "err", err)
		l.req, l.udp = l.udp, nil
		l.req.SetBody(keysFor(l.req.Body(), l.req.Transport()))
		dlg, err = l.c.b.dialogUA(l.req.Transport()).WriteInvite(l.ctx, l.req)
	}
	if l.sent != nil {
		go l.sent()
	}
	if err != nil {
		l.c.post(legDone{l: l, err: err})
		return
	}
	l.dlg = dlg
	defer dlg.Close()
	// The leg's CANCEL is ours, not sipgo's: sipgo stops waiting when the
	// CANCEL is not answered 200 (an RFC 3261 phone whose 2xx was already
	// on the wire answers 481) and drops that 200, which then is never
	// ACKed nor hung up. WaitAnswer keeps waiting for the final answer
	// after our CANCEL, bounded by 64*T1.
	wait, stopWait := context.WithCancelCause(context.Background())
	defer stopWait(nil)
	cn := &legCancel{prov: make(chan struct{}), answered: make(chan struct{}), done: make(chan struct{})}
	stop := context.AfterFunc(l.ctx, func() { defer close(cn.done); l.sendCancel(cn, stopWait) })
	err = dlg.WaitAnswer(wait, sipgo.AnswerOptions{
		Username: l.user, Password: l.pass,
		OnResponse: func(res *sip.Response) error {
			cn.saw(res, dlg.InviteRequest)
			if res.IsProvisional() && res.StatusCode > sip.StatusTrying {
				l.c.post(legProgress{l: l, res: res})
			}
			return nil
		},
	})
	close(cn.answered)
	if !stop() {
		<-cn.done
	}
	if err != nil && l.ctx.Err() != nil {
		if r := dlg.InviteResponse; r != nil && r.IsSuccess() {
			ackBye(dlg, l.c.log)
		}
	}
	if !l.c.post(legDone{l: l, err: err}) && err == nil {
		ackBye(dlg, l.c.log)
	}
}

// legCancel is what a leg's CANCEL needs from the goroutine waiting for
// the answer: the INVITE of the current transaction (a digest retry starts
// a new one) once a provisional response has come (RFC 3261 9.1), and
// the CANCEL built from it when one is sent. Most legs are answered or
// refused, never cancelled, so the CANCEL is not built in advance (issue
// 18: eleven allocations a leg).
type legCancel struct {
	mu       sync.Mutex
	inv      *sip.Request  // nil until a provisional response, and after a final one
	req      *sip.Request  // inv's CANCEL, once request built it
	prov     chan struct{} // poked at each provisional response
	answered chan struct{} // closed when WaitAnswer has returned
	done     chan struct{} // closed when sendCancel has returned
}

// saw runs in WaitAnswer's goroutine, the only one that changes inv: a
// digest retry rewrites it (sipgo's WaitAnswer) only after saw has taken
// the final response that asked for credentials, under cn.mu, so request
// reads inv (under cn.mu) only while nobody changes it.
func (cn *legCancel) saw(res *sip.Response, inv *sip.Request) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if !res.IsProvisional() {
		cn.inv, cn.req = nil, nil // final: a digest retry sends a new INVITE
		return
	}
	cn.inv = inv
	select {
	case cn.prov <- struct{}{}:
	default:
	}
}

// request is the CANCEL of the INVITE being answered, nil before its
// first provisional response.
func (cn *legCancel) request() *sip.Request {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.req == nil && cn.inv != nil { // once per INVITE transaction: its CANCEL is the same for every provisional response
		cn.req = cancelOf(cn.inv)
	}
	return cn.req
}

// sendCancel cancels the leg's INVITE once it may (after a provisional
// response) and stops the wait for its final answer 64*T1 later.
func (l *leg) sendCancel(cn *legCancel, stopWait context.CancelCauseFunc) {
	limit := time.NewTimer(64 * sip.T1)
	defer limit.Stop()
	for {
		req := cn.request()
		if req != nil {
			l.writeCancel(req)
			break
		}
		select {
		case <-cn.prov:
		case <-cn.answered:
			return
		case <-limit.C:
			stopWait(sipgo.WaitAnswerForceCancelErr)
			return
		}
	}
	limit.Reset(64 * sip.T1)
	select {
	case <-cn.answered:
	case <-limit.C:
		stopWait(sipgo.WaitAnswerForceCancelErr)
	}
}

// writeCancel sends req and waits (bounded) for its response.
func (l *leg) writeCancel(req *sip.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	tx, err := l.c.b.o.SIP.Client.TransactionRequest(ctx, req, func(*sipgo.Client, *sip.Request) error { return nil })
	if err != nil {
		l.c.log.Debug("b2bua: cancel leg", "device", l.device, "err", err)
		return
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if res.StatusCode != sip.StatusOK {
				l.c.log.Debug("b2bua: cancel leg refused", "device", l.device, "status", res.StatusCode)
			}
			return
		case <-tx.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}

// cancelOf is the CANCEL of inv (RFC 3261 9.1): its top Via, From, To,
// Call-ID, CSeq number and Route, to the same place.
func cancelOf(inv *sip.Request) *sip.Request {
	r := sip.NewRequest(sip.CANCEL, inv.Recipient)
	r.AppendHeader(sip.HeaderClone(inv.Via()))
	mf := sip.MaxForwardsHeader(70)
	r.AppendHeader(&mf)
	r.AppendHeader(sip.HeaderClone(inv.From()))
	r.AppendHeader(sip.HeaderClone(inv.To()))
	r.AppendHeader(sip.HeaderClone(inv.CallID()))
	r.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	sip.CopyHeaders("Route", inv, r)
	r.SetBody(nil)
	r.SetDestination(inv.Destination())
	r.SetTransport(inv.Transport())
	r.Laddr = inv.Laddr
	return r
}

// cleanup ends the legs, stops routing the call's dialogs, waits for the
// call's goroutines and writes the call's records.
func (c *call) cleanup() {
	c.cancelLegs(c.winner)
	c.b.o.SIP.RemoveDialog(c.id)
	for _, l := range c.legs {
		c.b.o.SIP.RemoveDialog(l.callID)
	}
	close(c.done)
	c.stopRelays()
	c.wg.Wait()
	for {
		select {
		case e := <-c.ev:
			switch e := e.(type) {
			case inDialog:
				signaling.Respond(e.tx, e.req, sip.StatusCallTransactionDoesNotExists, c.log)
			case legDone:
				// An answer that crossed the caller's CANCEL (RFC 3261
				// 9.2: the 200 wins at the callee), the ring timeout or
				// a BYE: the callee must get its ACK and a BYE.
				if e.err == nil && e.l != c.winner {
					c.ackBye(e.l)
				}
			}
			continue
		default:
		}
		break
	}
	c.a.Close()
	if c.media != nil {
		c.media.Close() // the ports are free once the call is over
	}
	c.finish()
	c.b.removeCall(c) // last: Active counts a call until its records and devices are settled
}

func (c *call) setState(s string) {
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

func (c *call) live() LiveCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	lc := LiveCall{CallID: c.id, From: c.caller.Number, To: c.dialled, Extension: c.caller.Ext, Device: c.caller.Device,
		State: c.state, Since: c.since}
	if lc.Extension == "" {
		lc.Extension = c.callee.Ext
		lc.Device = c.answerDev
	}
	return lc
}

// allow lists the methods the PBX takes within a call.
const allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"
