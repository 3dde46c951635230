package signaling

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Requests of a method handled with HandleStateless never reach sipgo:
// they are answered where they were read, parsed once (by inspect), and
// without a server transaction. sipgo spawns a goroutine per message,
// keeps every UDP server transaction 32 s (Timer J) with a timer goroutine
// each, and guards all of them with one mutex: under ~4,000 REGISTER/s
// hundreds of goroutines queued on that mutex and on the socket, the
// socket buffer overflowed and phones retransmitted (issue 18). A
// registrar needs none of it (Kamailio answers REGISTER statelessly too):
// a retransmitted REGISTER is simply handled again, which RFC 3261 10.3
// makes harmless (same Call-ID and CSeq: the bindings are reported, not
// changed; a reused nonce-count is challenged again).

// HandleStateless sets the handler for out-of-dialog requests of method
// and answers them outside sipgo's transaction layer (see above). The
// handler's transaction only answers (Respond); it has no ACKs, CANCEL or
// timers. Use it for methods whose handling is idempotent: REGISTER.
//
// The handler runs in the read loop that read the request, so it must not
// block: work that may wait (a store query, a group commit) goes to a
// goroutine of its own. A goroutine per request cost the read loops their
// turn: with both cores busy running handlers, a loop woken by the
// network poller waited, the socket buffer filled at ~3,700 REGISTER/s;
// answering in the loop took 6,000/s without a retransmission.
func (s *Server) HandleStateless(method sip.RequestMethod, h func(req *sip.Request, tx sip.ServerTransaction)) {
	s.mu.Lock()
	s.handlers[method] = h
	if s.stateless == nil {
		s.stateless = map[sip.RequestMethod]bool{}
	}
	s.stateless[method] = true
	s.mu.Unlock()
}

// HandleStatelessIf has the out-of-dialog requests of method that pick
// selects answered by h, like HandleStateless's: in the read loop, with a
// stateless transaction, never reaching sipgo; the others go to the
// method's handler (Handle) through sipgo as before. pick runs in the
// read loop on every such request, and h on those it selects: both must
// not wait (no store query), and h must answer at once and start nothing
// that needs a transaction (a call).
//
// For INVITEs without credentials (issue 18): the 407 challenge that
// every call from a phone begins with cost a sipgo server transaction
// (a second parse, a goroutine, four timers, and a goroutine holding the
// ACK for Timer I, 5 s), for a response that needs none: a retransmitted
// INVITE gets the same 407 again (answered), and the ACK of a 407 sent
// here is dropped where it is read. The 407 is not retransmitted by the
// PBX (Timer G): the phone retransmits its INVITE until a response
// arrives, as with a proxy that challenges statelessly (Kamailio's
// sl_send_reply).
func (s *Server) HandleStatelessIf(method sip.RequestMethod, pick func(req *sip.Request) bool, h func(req *sip.Request, tx sip.ServerTransaction)) {
	s.mu.Lock()
	if s.picks == nil {
		s.picks = map[sip.RequestMethod]picked{}
	}
	s.picks[method] = picked{pick: pick, h: h}
	s.mu.Unlock()
}

// picked is a HandleStatelessIf registration.
type picked struct {
	pick func(*sip.Request) bool
	h    sipgo.RequestHandler
}

// isStateless reports whether msg is a request to answer statelessly.
func (s *Server) isStateless(msg sip.Message) (*sip.Request, bool) {
	req, ok := msg.(*sip.Request)
	if !ok {
		return nil, false
	}
	s.mu.RLock()
	st := s.stateless[req.Method]
	p := s.picks[req.Method]
	s.mu.RUnlock()
	if st || p.pick == nil {
		return req, st
	}
	return req, s.outOfDialog(req) && p.pick(req)
}

// outOfDialog reports whether req opens a dialog the PBX does not route
// yet: no To tag, and no dialog with its Call-ID.
func (s *Server) outOfDialog(req *sip.Request) bool {
	to, id := req.To(), req.CallID()
	if to == nil || id == nil {
		return false
	}
	if _, tagged := to.Params.Get("tag"); tagged {
		return false
	}
	s.mu.RLock()
	_, routed := s.dialogs[id.Value()]
	s.mu.RUnlock()
	return !routed
}

// statelessAck reports whether req is the ACK of a final response sent
// statelessly over UDP from source (a 407 to an INVITE, HandleStatelessIf):
// it ends nothing in sipgo and is dropped.
func (s *Server) statelessAck(req *sip.Request, source string) bool {
	if req.Method != sip.ACK {
		return false
	}
	s.mu.RLock()
	picks := len(s.picks)
	s.mu.RUnlock()
	if picks == 0 {
		return false
	}
	key, err := serverTxKey(req, "|", source) // an ACK's key is its INVITE's
	return err == nil && s.answered.has(key)
}

// statelessLine reports whether msg's request line names a method
// answered statelessly (checked again once parsed).
func (s *Server) statelessLine(msg []byte) bool {
	method, _, ok := bytes.Cut(msg, []byte(" "))
	if !ok || len(method) > 16 {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for m := range s.stateless { // one or two: no key made per message
		if string(m) == string(method) {
			return true
		}
	}
	return false
}

// serveStateless routes req (already checked by inspect) in the calling
// read loop, answering through write. Over UDP a retransmission (same
// transaction key from the same source) is not handled again: while the
// first copy is being handled it is dropped, once answered it gets the
// same response bytes (phones and sipp expect the very response again; a
// second handling would answer an authenticated REGISTER with a new
// challenge, its nonce-count being used).
func (s *Server) serveStateless(req *sip.Request, transport, source string, write func([]byte) error) {
	s.answerStateless(req, transport, source, &statelessTx{write: write})
}

// serveStatelessUDP is serveStateless for a request read over UDP from
// src: the transaction writes to its response address itself.
func (s *Server) serveStatelessUDP(req *sip.Request, src *net.UDPAddr) {
	s.answerStateless(req, "UDP", src.String(), &statelessTx{srv: s, dst: udpResponseAddr(req, src)})
}

// answerStateless is serveStateless with the transaction given.
func (s *Server) answerStateless(req *sip.Request, transport, source string, tx *statelessTx) {
	req.SetTransport(transport)
	req.SetSource(source)
	if transport == "UDP" {
		if key, err := serverTxKey(req, "|", source); err == nil {
			if res, seen := s.answered.begin(key, time.Now()); seen {
				if res != nil {
					_ = tx.send(res)
				}
				return
			}
			tx.key, tx.answered = key, &s.answered
		}
	}
	s.mu.RLock()
	var h sipgo.RequestHandler // the method's (HandleStateless)
	if !s.stateless[req.Method] {
		h = s.picks[req.Method].h // picked (HandleStatelessIf)
	}
	s.mu.RUnlock()
	s.routeTo(req.Method, req, tx, h)
}

// answered remembers the final responses to UDP requests answered
// statelessly for answeredFor to 2×answeredFor (two generations), which
// covers a UDP client's first retransmissions (0.5, 1, 2, 4 s after the
// request): RFC 3261 17.2.2 keeps them 32 s, at ~600 bytes each that is
// 150 MB at 8,000 requests/s; a later retransmission is handled again.
type answered struct {
	mu        sync.Mutex
	cur, prev map[string][]byte // nil value: being handled
	start     time.Time
}

const (
	answeredFor = 4 * time.Second
	answeredMax = 100_000 // per generation; beyond, requests are not remembered
)

// begin returns the response already sent for key (nil while it is being
// handled) and true, or marks key as being handled and returns false.
func (a *answered) begin(key string, now time.Time) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.start) >= answeredFor {
		a.prev, a.cur, a.start = a.cur, make(map[string][]byte, len(a.cur)), now
	}
	if a.cur == nil {
		a.cur = map[string][]byte{}
	}
	if res, ok := a.cur[key]; ok {
		return res, true
	}
	if res, ok := a.prev[key]; ok {
		return res, true
	}
	if len(a.cur) < answeredMax {
		a.cur[key] = nil
	}
	return nil, false
}

// has reports whether key was answered (or is being handled).
func (a *answered) has(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, cur := a.cur[key]
	_, prev := a.prev[key]
	return cur || prev
}

// expire forgets generations older than 2×answeredFor (called every
// answeredFor: without traffic begin never rotates).
func (a *answered) expire(now time.Time) {
	a.mu.Lock()
	if now.Sub(a.start) >= answeredFor {
		a.prev, a.cur, a.start = a.cur, nil, now
		if len(a.prev) == 0 {
			a.prev = nil
		}
	}
	a.mu.Unlock()
}

// done records the final response sent for key.
func (a *answered) done(key string, res []byte) {
	a.mu.Lock()
	if _, ok := a.prev[key]; ok {
		a.prev[key] = res
	} else if len(a.cur) < answeredMax {
		if a.cur == nil { // expire dropped it: answered after two ticks without traffic
			a.cur = map[string][]byte{}
		}
		a.cur[key] = res
	}
	a.mu.Unlock()
}

// statelessTx is the transaction handed to a stateless handler: Respond
// writes the response (and, over UDP, remembers a final one for
// retransmissions); nothing else happens.
type statelessTx struct {
	write    func([]byte) error // nil: to dst from the UDP socket of srv
	srv      *Server
	dst      *net.UDPAddr
	key      string
	answered *answered // nil: nothing remembered (TCP, TLS)
	mu       sync.Mutex
	err      error
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Respond writes res where the request came from.
func (t *statelessTx) Respond(res *sip.Response) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	res.StringWrite(buf)
	if t.answered != nil && res.StatusCode >= 200 {
		// Remembered before it is sent: a retransmission read by another
		// loop the moment the response arrives must find it.
		t.answered.done(t.key, bytes.Clone(buf.Bytes()))
	}
	err := t.send(buf.Bytes())
	if buf.Cap() <= 64<<10 {
		bufPool.Put(buf)
	}
	if err != nil {
		t.mu.Lock()
		t.err = err
		t.mu.Unlock()
	}
	return err
}

// send writes one response.
func (t *statelessTx) send(b []byte) error {
	if t.write != nil {
		return t.write(b)
	}
	if t.srv.udp == nil {
		return errors.New("no UDP socket")
	}
	_, err := t.srv.udp.WriteTo(b, t.dst)
	return err
}

func (t *statelessTx) Acks() <-chan *sip.Request            { return nil }
func (t *statelessTx) OnCancel(f sip.FnTxCancel) bool       { return false }
func (t *statelessTx) Terminate()                           {}
func (t *statelessTx) OnTerminate(f sip.FnTxTerminate) bool { return false }
func (t *statelessTx) Done() <-chan struct{}                { return closedDone }
func (t *statelessTx) Err() error                           { t.mu.Lock(); defer t.mu.Unlock(); return t.err }

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// IsStateless reports whether tx is a stateless one (HandleStateless): a
// response may then be written later with Respond (e.g. delayed), as no
// transaction times out.
func IsStateless(tx sip.ServerTransaction) bool {
	_, ok := tx.(*statelessTx)
	return ok
}

// udpResponseAddr is where a response to a request received over UDP
// from src goes (RFC 3261 18.2.2, RFC 3581 4): the source address and port
// when the top Via asked for rport, else the source address and the port
// of the Via's sent-by (5060 when it names none).
func udpResponseAddr(req *sip.Request, src *net.UDPAddr) *net.UDPAddr {
	v := req.Via()
	if v == nil {
		return src
	}
	if _, ok := v.Params.Get("rport"); ok {
		return src
	}
	port := v.Port
	if port == 0 {
		port = 5060
	}
	return &net.UDPAddr{IP: src.IP, Port: port, Zone: src.Zone}
}

// writeUDP returns a writer of datagrams to the response address of req.
func (s *Server) writeUDP(req *sip.Request, src *net.UDPAddr) func([]byte) error {
	dst := udpResponseAddr(req, src)
	return func(b []byte) error {
		if s.udp == nil {
			return errors.New("no UDP socket")
		}
		_, err := s.udp.WriteTo(b, dst)
		return err
	}
}

// writeAll writes a whole message to a TCP or TLS connection (net.Conn
// writes are safe from several goroutines; like sipgo's, they set no
// deadline, which would stay on the connection for sipgo's writes).
func writeAll(c net.Conn, b []byte) error {
	n, err := c.Write(b)
	if err == nil && n != len(b) {
		err = errors.New("short write of " + strconv.Itoa(n) + " bytes")
	}
	return err
}
