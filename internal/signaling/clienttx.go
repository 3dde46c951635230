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

// clientTxs are the open client transactions the PBX started, by key.
type clientTxs struct {
	mu  sync.Mutex
	txs map[string]*sip.ClientTx
}

// add indexes tx until it terminates.
func (c *clientTxs) add(tx *sip.ClientTx) {
	key := tx.Key()
	c.mu.Lock()
	if c.txs == nil {
		c.txs = map[string]*sip.ClientTx{}
	}
	c.txs[key] = tx
	c.mu.Unlock()
	if !tx.OnTerminate(func(string, error) { c.drop(key, tx) }) {
		c.drop(key, tx) // ended already
	}
}

// drop forgets tx (not another transaction given the same key since).
func (c *clientTxs) drop(key string, tx *sip.ClientTx) {
	c.mu.Lock()
	if c.txs[key] == tx {
		delete(c.txs, key)
	}
	c.mu.Unlock()
}

// get returns the transaction of key, or nil.
func (c *clientTxs) get(key string) *sip.ClientTx {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.txs[key]
}

// len is how many transactions are indexed (tests).
func (c *clientTxs) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.txs)
}

// deliverResponse hands res, read over UDP from src and checked by
// inspect, to the client transaction it answers, as sipgo's transport and
// transaction layers would (transport and source set, Receive in a
// goroutine of its own: it blocks until the transaction's owner takes the
// response). It reports false when no transaction of the PBX's matches.
func (s *Server) deliverResponse(res *sip.Response, src net.Addr) bool {
	if src == nil {
		return false
	}
	return s.deliverResponseFrom(res, "UDP", src.String())
}

// deliverResponseFrom is deliverResponse for a response read over
// transport from source (guardConn: over TCP and TLS too).
func (s *Server) deliverResponseFrom(res *sip.Response, transport, source string) bool {
	key, err := sip.ClientTxKeyMake(res)
	if err != nil {
		return false
	}
	tx := s.clients.get(key)
	if tx == nil {
		return false
	}
	res.SetTransport(transport)
	res.SetSource(source)
	go tx.Receive(res)
	return true
}
