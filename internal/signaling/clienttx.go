package signaling

import (
	"net"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// A response over UDP to a request the PBX sent (a callee's 180 and 200,
// the 200 to a BYE or a NOTIFY) was parsed twice: once by inspect, which
// checks every datagram, and again by sipgo's UDP read loop, which hands
// the bytes the read filter lets through to its transaction layer. sipgo
// has no public entry that takes a parsed message, but the transactions
// the PBX starts pass through sourceRequester, and a client transaction
// takes its responses with ClientTx.Receive (public): clientTxs indexes
// the UDP client transactions by key (RFC 3261 17.1.3: the top Via's
// branch and the CSeq method), and the read filter hands a response that
// matches one to it, parsed once (issue 18). Over TCP and TLS guardConn
// does the same. A response that matches none (a stray) goes to sipgo as
// before.

// Each response delivered in a goroutine of its own cost a goroutine and
// a hand-off: the goroutine started (waking an idle thread to run it),
// then woke the transaction's owner through the transaction's unbuffered
// channel, three times a call (the callee's 180 and 200, the 200 to the
// BYE; issue 18, ninth pass). Over UDP the read loop now hands the
// response to the transaction itself while that cannot wait on anyone
// but an owner that is reading: a provisional response, or the first
// final one, of a transaction that has had fewer than inlineResponses
// responses. Every owner of the PBX's client transactions reads its
// transaction's responses until the final one or ends the transaction
// (sipgo's Client.Do and DialogClientSession.Do, WriteBye and WaitAnswer,
// the B2BUA's CANCEL), so the read loop waits at most until the owner
// takes it, as the goroutine did. What follows a final response (a
// retransmission: sipgo may wait T2 in it before ACKing again, RFC 3261
// 17.1.1.2) and responses beyond WaitAnswer's limit of ten still get a
// goroutine; so do responses over TCP and TLS, read by a connection's
// loop.

// inlineResponses is how many responses of one transaction the read loop
// may hand over itself (sipgo's WaitAnswer stops reading after ten).
const inlineResponses = 8

// clientTxs are the open client transactions the PBX started, by key.
type clientTxs struct {
	mu  sync.Mutex
	txs map[string]*clientTx
}

// clientTx is an open client transaction and what was delivered to it.
type clientTx struct {
	tx    *sip.ClientTx
	n     int  // responses delivered
	final bool // a final response was delivered
}

// add indexes tx until it terminates.
func (c *clientTxs) add(tx *sip.ClientTx) {
	key := tx.Key()
	c.mu.Lock()
	if c.txs == nil {
		c.txs = map[string]*clientTx{}
	}
	c.txs[key] = &clientTx{tx: tx}
	c.mu.Unlock()
	if !tx.OnTerminate(func(string, error) { c.drop(key, tx) }) {
		c.drop(key, tx) // ended already
	}
}

// drop forgets tx (not another transaction given the same key since).
func (c *clientTxs) drop(key string, tx *sip.ClientTx) {
	c.mu.Lock()
	if e := c.txs[key]; e != nil && e.tx == tx {
		delete(c.txs, key)
	}
	c.mu.Unlock()
}

// take returns the transaction of key (nil if none) for res, and whether
// res may be handed to it without a goroutine (above).
func (c *clientTxs) take(key string, res *sip.Response) (*sip.ClientTx, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.txs[key]
	if e == nil {
		return nil, false
	}
	inline := !e.final && e.n < inlineResponses
	e.n++
	if !res.IsProvisional() {
		e.final = true
	}
	return e.tx, inline
}

// len is how many transactions are indexed (tests).
func (c *clientTxs) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.txs)
}

// deliverResponse hands res, read over UDP from src and checked by
// inspect, to the client transaction it answers, as sipgo's transport and
// transaction layers would (transport and source set), in this goroutine
// when it can (above). It reports false when no transaction of the PBX's
// matches.
func (s *Server) deliverResponse(res *sip.Response, src net.Addr) bool {
	if src == nil {
		return false
	}
	return s.deliver(res, "UDP", src.String(), true)
}

// deliverResponseFrom is deliverResponse for a response read over
// transport from source by a connection's loop (guardConn: TCP and TLS),
// always in a goroutine of its own: Receive blocks until the
// transaction's owner takes the response.
func (s *Server) deliverResponseFrom(res *sip.Response, transport, source string) bool {
	return s.deliver(res, transport, source, false)
}

// deliver hands res to the client transaction it answers, in this
// goroutine when mayInline and take allows it, else in one of its own.
func (s *Server) deliver(res *sip.Response, transport, source string, mayInline bool) bool {
	key, err := sip.ClientTxKeyMake(res)
	if err != nil {
		return false
	}
	tx, inline := s.clients.take(key, res)
	if tx == nil {
		return false
	}
	res.SetTransport(transport)
	res.SetSource(source)
	if mayInline && inline {
		tx.Receive(res)
	} else {
		go tx.Receive(res)
	}
	return true
}
