package signaling

import (
	"bytes"
	"net"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A non-INVITE server transaction over UDP stays in Completed for Timer J
// (64*T1 = 32 s) after its final response, only to answer retransmissions
// of its request with that response again (RFC 3261 17.2.2). sipgo keeps
// the whole transaction for it (the request, the response, the FSM) and
// ends it with a timer of its own whose firing starts a goroutine and
// wakes a thread: once for every BYE (one a call), OPTIONS, NOTIFY,
// SUBSCRIBE, MESSAGE the PBX answers, 32 s later (issue 18, ninth pass).
// serveRouted now ends such a transaction as soon as its final response
// is out and keeps what Completed needs, the response's bytes and where
// they went, in completedTxs; a retransmission of the request is answered
// from there for 64*T1, and one timer forgets the expired records,
// firing at most about once a second while any are kept.

// completedSweep is how late past its expiry a record may be forgotten:
// the sweeping timer fires at most once per completedSweep.
const completedSweep = time.Second

// completed is a non-INVITE transaction's final response over UDP.
type completed struct {
	key string
	res []byte
	dst *net.UDPAddr
	exp time.Time
}

// completedTxs are the records of answered non-INVITE transactions.
type completedTxs struct {
	mu    sync.Mutex
	byKey map[string]*completed
	fifo  []*completed // by expiry: every record lives 64*T1
	head  int          // fifo[:head] are forgotten
	timer *time.Timer  // sweeps while records are kept
	armed bool
}

// put keeps res, sent to dst, as the answer of transaction key.
func (a *completedTxs) put(key string, res []byte, dst *net.UDPAddr, now time.Time) {
	r := &completed{key: key, res: res, dst: dst, exp: now.Add(64 * sip.T1)}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byKey == nil {
		a.byKey = map[string]*completed{}
	}
	a.byKey[key] = r
	a.fifo = append(a.fifo, r)
	if !a.armed {
		a.armed = true
		d := r.exp.Sub(now) + completedSweep
		if a.timer == nil {
			a.timer = time.AfterFunc(d, a.sweep)
		} else {
			a.timer.Reset(d)
		}
	}
}

// get returns the record of key, nil if there is none or it expired.
func (a *completedTxs) get(key string, now time.Time) *completed {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.byKey[key]
	if r == nil || !now.Before(r.exp) {
		return nil
	}
	return r
}

// sweep forgets the expired records and sets the timer for the next.
func (a *completedTxs) sweep() {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.prune(now)
	if a.head == len(a.fifo) {
		a.armed = false
		return
	}
	a.timer.Reset(a.fifo[a.head].exp.Sub(now) + completedSweep)
}

// prune forgets the records expired at now (a.mu held).
func (a *completedTxs) prune(now time.Time) {
	for a.head < len(a.fifo) && !now.Before(a.fifo[a.head].exp) {
		r := a.fifo[a.head]
		a.fifo[a.head] = nil
		a.head++
		if a.byKey[r.key] == r {
			delete(a.byKey, r.key)
		}
	}
	if a.head == len(a.fifo) {
		a.fifo, a.head = a.fifo[:0], 0
	} else if a.head > len(a.fifo)/2 {
		n := copy(a.fifo, a.fifo[a.head:])
		clear(a.fifo[n:])
		a.fifo, a.head = a.fifo[:n], 0
	}
}

// len is how many records are kept (tests).
func (a *completedTxs) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.byKey)
}

// stop stops the sweeping timer (shutdown).
func (a *completedTxs) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.timer != nil {
		a.timer.Stop()
	}
	a.armed = false
}

// finish ends tx, whose request req was routed, once its handler has
// returned: a non-INVITE transaction over UDP with its final response
// out is recorded (above) and terminated, Timer J stopped; any other
// ends gracefully as sipgo's server ends it.
func (s *Server) finish(req *sip.Request, tx *sip.ServerTx) {
	c, ok := tx.Connection().(*udpTxConn)
	if !ok || req.IsInvite() || req.IsAck() {
		tx.TerminateGracefully()
		return
	}
	res := c.finalResponse()
	if res == nil {
		tx.TerminateGracefully() // not answered: ended now
		return
	}
	s.completed.put(tx.Key(), res, c.dst, time.Now())
	tx.Terminate()
}

// resendAnswer answers a retransmission of an answered non-INVITE
// request (key) from its record, and reports whether there was one.
func (s *Server) resendAnswer(key string) bool {
	r := s.completed.get(key, time.Now())
	if r == nil {
		return false
	}
	_, _ = s.udp.WriteTo(r.res, r.dst)
	return true
}

// finalResponse is the final response written through c, if any.
func (c *udpTxConn) finalResponse() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.final
}

// keepFinal keeps b, the bytes of msg just written, when msg is a final
// response to a non-INVITE request.
func (c *udpTxConn) keepFinal(msg sip.Message, b []byte) {
	res, ok := msg.(*sip.Response)
	if !ok || res.IsProvisional() {
		return
	}
	if cs := res.CSeq(); cs == nil || cs.MethodName == sip.INVITE {
		return
	}
	c.mu.Lock()
	c.final = bytes.Clone(b)
	c.mu.Unlock()
}
