package signaling

import (
	"bytes"
	"net"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// A UDP request handled in a sipgo server transaction (an INVITE with
// credentials, its ACK, a BYE) was parsed twice, like the responses of
// clienttx.go: by inspect, then by sipgo's read loop. sipgo's transaction
// layer takes no parsed message, but its server transaction does
// (sip.NewServerTx, Init, Receive: public), so the read filter does for
// these requests what sipgo's transaction layer did (RFC 3261 17.2.3,
// sipgo's TransactionLayer.handleRequest and Server.handleRequest): a
// request matching a transaction goes to it (a retransmission, the ACK of
// a non-2xx answer, a CANCEL of an INVITE), any other starts one, handled
// by route in a goroutine of its own (an ACK in the read loop) and ended
// once handled (finish, completed.go). Responses leave through udpTxConn,
// to the address RFC 3261 18.2.2 names (udpResponseAddr, as sipgo
// computed it). Requests of methods route does not handle go to sipgo as
// before.
//
// Requests over TCP and TLS were parsed twice the same way (guardConn
// checks and frames them with inspect, then sipgo's TCP read loop parsed
// what it was handed): guardConn hands them to serveConnTx, which does
// the same over the connection sipgo keeps in its pool for the source
// (issue 18).

// serverTxs are the open server transactions of UDP requests read here.
type serverTxs struct {
	mu  sync.Mutex
	txs map[string]*sip.ServerTx
}

// get returns the transaction of key, or nil.
func (st *serverTxs) get(key string) *sip.ServerTx {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.txs[key]
}

// put indexes tx under key unless one is there already, which it
// returns.
func (st *serverTxs) put(key string, tx *sip.ServerTx) *sip.ServerTx {
	st.mu.Lock()
	defer st.mu.Unlock()
	if old := st.txs[key]; old != nil {
		return old
	}
	if st.txs == nil {
		st.txs = map[string]*sip.ServerTx{}
	}
	st.txs[key] = tx
	return nil
}

// drop forgets tx (not another transaction given the same key since).
func (st *serverTxs) drop(key string, tx *sip.ServerTx) {
	st.mu.Lock()
	if st.txs[key] == tx {
		delete(st.txs, key)
	}
	st.mu.Unlock()
}

// len is how many transactions are indexed (tests).
func (st *serverTxs) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.txs)
}

// terminateAll ends every transaction (shutdown, as sipgo's layer does).
func (st *serverTxs) terminateAll() {
	st.mu.Lock()
	all := make([]*sip.ServerTx, 0, len(st.txs))
	for _, tx := range st.txs {
		all = append(all, tx)
	}
	st.mu.Unlock()
	for _, tx := range all {
		tx.Terminate() // drops itself (OnTerminate)
	}
}

// routed are the methods route handles (Listen registers it for them).
var routed = []sip.RequestMethod{sip.INVITE, sip.ACK, sip.BYE, sip.CANCEL, sip.INFO,
	sip.UPDATE, sip.PRACK, sip.REGISTER, sip.OPTIONS, sip.SUBSCRIBE, sip.NOTIFY,
	sip.MESSAGE, sip.REFER, sip.PUBLISH}

func isRouted(m sip.RequestMethod) bool {
	for _, r := range routed {
		if r == m {
			return true
		}
	}
	return false
}

// serveTx handles req, read over UDP from src on the listening socket
// and checked by inspect, in a server transaction as sipgo would have. It
// reports false when req is left to sipgo.
func (s *Server) serveTx(req *sip.Request, local, src net.Addr) bool {
	from, ok := src.(*net.UDPAddr)
	if !ok || s.udp == nil || !isRouted(req.Method) || !sameUDPAddr(local, s.udp.LocalAddr()) {
		return false
	}
	source := from.String()
	req.SetTransport("UDP")
	req.SetSource(source)
	s.addSource(source)
	return s.runTx(req, &udpTxConn{s: s, dst: udpResponseAddr(req, from)})
}

// serveConnTx is serveTx for a request read over a TCP or TLS connection
// (guardConn) from source: the transaction's connection is the one
// sipgo keeps for it in its pool, as sipgo's transaction layer takes it
// (RFC 3261 18.2.2: responses go back over the request's connection).
// It reports false, leaving req to sipgo, when the pool has none.
func (s *Server) serveConnTx(req *sip.Request, transport, source string) bool {
	if s.UA == nil || !isRouted(req.Method) {
		return false // not listening (tests of guardConn alone)
	}
	pool := s.UA.TransportLayer().Pool(transport)
	if pool == nil {
		return false
	}
	conn := pool.Get(source) // a reference: the transaction's, or released
	if conn == nil {
		return false
	}
	req.SetTransport(transport)
	req.SetSource(source)
	return s.runTx(req, conn)
}

// runTx hands req to its server transaction, or starts one over conn
// (whose reference the transaction then owns; else it is released).
func (s *Server) runTx(req *sip.Request, conn sip.Connection) bool {
	if req.IsCancel() {
		if key, err := serverTxKey(inviteOf(req), "", ""); err == nil {
			if tx := s.servers.get(key); tx != nil {
				// sipgo's order: the CANCEL's 200 first (the canceller stops
				// retransmitting), then the INVITE's transaction ends (487).
				_ = conn.WriteMsg(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
				conn.TryClose()
				go tx.Receive(req)
				return true
			}
		}
	}
	key, err := serverTxKey(req, "", "")
	if err != nil {
		conn.TryClose()
		return false // inspect refused these already
	}
	if tx := s.servers.get(key); tx != nil {
		conn.TryClose()
		go tx.Receive(req)
		return true
	}
	if _, udp := conn.(*udpTxConn); udp && s.resendAnswer(key) {
		return true // a retransmission of an answered request (completed.go)
	}
	tx := sip.NewServerTx(key, req, conn, s.txLog)
	if err := tx.Init(); err != nil {
		conn.TryClose()
		return true // Init of a server transaction fails on nothing today
	}
	if old := s.servers.put(key, tx); old != nil {
		tx.Terminate() // another read loop's copy won (releases conn)
		go old.Receive(req)
		return true
	}
	if !tx.OnTerminate(func(k string, _ error) { s.servers.drop(k, tx) }) {
		s.servers.drop(key, tx)
	}
	if req.IsAck() {
		// An ACK's handlers only take note of it (a dialog confirmed, a
		// relayed ACK passed on) and never answer: it is served here, with
		// no goroutine started and woken for it (issue 18, ninth pass).
		s.serveRouted(req, tx)
		return true
	}
	go s.serveRouted(req, tx)
	return true
}

// serveRouted routes req in its server transaction tx and ends tx, as
// sipgo's server does: no transaction left behind (finish).
func (s *Server) serveRouted(req *sip.Request, tx *sip.ServerTx) {
	s.route(req.Method, req, tx)
	s.finish(req, tx)
}

// inviteOf is the INVITE a CANCEL names, as far as its server
// transaction's key goes (RFC 3261 9.2: the CANCEL's Via, From, Call-ID
// and CSeq number).
func inviteOf(cancel *sip.Request) *sip.Request {
	inv := sip.NewRequest(sip.INVITE, cancel.Recipient)
	if v := cancel.Via(); v != nil {
		inv.AppendHeader(v)
	}
	if f := cancel.From(); f != nil {
		inv.AppendHeader(f)
	}
	if id := cancel.CallID(); id != nil {
		inv.AppendHeader(id)
	}
	if c := cancel.CSeq(); c != nil {
		inv.AppendHeader(&sip.CSeqHeader{SeqNo: c.SeqNo, MethodName: sip.INVITE})
	}
	return inv
}

// sameUDPAddr reports whether a and b are the same UDP address.
func sameUDPAddr(a, b net.Addr) bool {
	x, ok1 := a.(*net.UDPAddr)
	y, ok2 := b.(*net.UDPAddr)
	return ok1 && ok2 && x.Port == y.Port && x.IP.Equal(y.IP)
}

// addSource puts source in sipgo's UDP connection pool, as its read loop
// does for every datagram it handles: a response written later through
// the transport layer (sipgo.Server.WriteResponse) finds the listening
// socket by the request's source there.
func (s *Server) addSource(source string) {
	pool := s.UA.TransportLayer().Pool("udp")
	if c := pool.Get(source); c != nil {
		c.TryClose() // Get took a reference
		return
	}
	l := pool.Get(s.udp.LocalAddr().String())
	if l == nil {
		return // not served yet
	}
	l.TryClose()
	pool.Add(source, l)
}

// responseBytes renders res.
func responseBytes(res *sip.Response) []byte {
	var b bytes.Buffer
	res.StringWrite(&b)
	return b.Bytes()
}

// udpTxConn is the connection of a server transaction serveTx started:
// its responses (and their retransmissions) go from the listening socket
// to dst. It owns nothing: closing it closes nothing.
type udpTxConn struct {
	s   *Server
	dst *net.UDPAddr

	mu    sync.Mutex
	final []byte // the final response to a non-INVITE request (completed.go)
}

func (c *udpTxConn) LocalAddr() net.Addr { return c.s.udp.LocalAddr() }

// WriteMsg writes msg to dst, with sipgo's size limit for UDP.
func (c *udpTxConn) WriteMsg(msg sip.Message) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	msg.StringWrite(buf)
	var err error
	if buf.Len() > sip.UDPMTUSize-200 {
		err = sip.ErrUDPMTUCongestion
	} else {
		_, err = c.s.udp.WriteTo(buf.Bytes(), c.dst)
	}
	if err == nil {
		c.keepFinal(msg, buf.Bytes())
	}
	if buf.Cap() <= 64<<10 {
		bufPool.Put(buf)
	}
	return err
}

func (c *udpTxConn) Ref(int) int            { return 1 }
func (c *udpTxConn) TryClose() (int, error) { return 1, nil }
func (c *udpTxConn) Close() error           { return nil }
