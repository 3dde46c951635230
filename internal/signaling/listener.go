package signaling

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TCPLimits bound what SIP TCP clients can hold. Zero fields take the
// defaults of DefaultTCPLimits.
type TCPLimits struct {
	MaxConns       int           // open connections in total
	MaxPerSource   int           // open connections from one IP address
	FirstMessage   time.Duration // idle time allowed before a first complete message
	Idle           time.Duration // idle time after messages, none of them a REGISTER
	RegisteredIdle time.Duration // idle time of a flow that carried a REGISTER
	MessageRead    time.Duration // time to receive the rest of a message once it began
}

// DefaultTCPLimits are the defaults: a registered flow stays while its
// binding may live (the registrar's maximum expiry, 3600 s, plus a margin
// for the refresh); connections that never sent a whole message go after
// 30 s.
func DefaultTCPLimits() TCPLimits {
	return TCPLimits{
		MaxConns:       10000,
		MaxPerSource:   200,
		FirstMessage:   30 * time.Second,
		Idle:           10 * time.Minute,
		RegisteredIdle: time.Hour + 2*time.Minute,
		MessageRead:    10 * time.Second,
	}
}

func (l TCPLimits) withDefaults() TCPLimits {
	d := DefaultTCPLimits()
	pick := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	if l.MaxConns <= 0 {
		l.MaxConns = d.MaxConns
	}
	if l.MaxPerSource <= 0 {
		l.MaxPerSource = d.MaxPerSource
	}
	pick(&l.FirstMessage, d.FirstMessage)
	pick(&l.Idle, d.Idle)
	pick(&l.RegisteredIdle, d.RegisteredIdle)
	pick(&l.MessageRead, d.MessageRead)
	return l
}

// guardListener is the SIP TCP listener handed to sipgo. sipgo's accept
// loop returns on the first error, which ended the PBX when it ran out of
// file descriptors: Accept here retries every error but a closed listener,
// with backoff. It caps connections in total and per source address and
// wraps each in a guardConn.
type guardListener struct {
	net.Listener
	s      *Server
	limits TCPLimits
	done   chan struct{}
	once   sync.Once
	// tlsConf, when set, makes this the TLS listener: each connection is
	// a TLS server whose handshake runs on its first read.
	tlsConf *tls.Config

	mu       sync.Mutex
	total    int
	bySource map[string]int

	// shares are the parts of a read's stateless requests handed to
	// the helpers (servePending), started once on first need.
	shares      chan share
	helpersOnce sync.Once
}

func newGuardListener(l net.Listener, s *Server, limits TCPLimits) *guardListener {
	return &guardListener{Listener: l, s: s, limits: limits.withDefaults(), done: make(chan struct{}), bySource: map[string]int{},
		shares: make(chan share)}
}

// share is every workers-th message of msgs from w on, served by a
// helper; done is called after.
type share struct {
	c          *guardConn
	msgs       [][]byte
	ok         []bool
	w, workers int
	done       *sync.WaitGroup
}

// serve serves the share's messages and marks which were good.
func (sh share) serve() {
	for i := sh.w; i < len(sh.msgs); i += sh.workers {
		sh.ok[i] = sh.c.servePendingOne(sh.msgs[i])
	}
}

// helpers are the goroutines that serve shares for all the listener's
// connections, until it is closed: long-lived, so a busy connection's
// read starts none (a goroutine started per share cost its creation and
// the growth of its stack in every read, issue 18).
const helpers = UDPReaders - 1

// startHelpers starts the helpers once.
func (l *guardListener) startHelpers() {
	l.helpersOnce.Do(func() {
		for range helpers {
			go func() {
				for {
					select {
					case <-l.done:
						return
					case sh := <-l.shares:
						sh.serve()
						sh.done.Done()
					}
				}
			}()
		}
	})
}

// Close closes the listener and ends a pending backoff.
func (l *guardListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Accept returns the next connection within the caps.
func (l *guardListener) Accept() (net.Conn, error) {
	backoff := time.Duration(0)
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			select {
			case <-l.done:
				return nil, net.ErrClosed
			default:
			}
			l.s.guard.acceptErr.Inc()
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if first, _ := l.s.guard.limit("accept"); first {
				l.s.guard.log.Error("sip: accept failed; backing off and serving on (logged once per interval)", "error", err, "backoff", backoff)
			}
			select {
			case <-l.done:
				return nil, net.ErrClosed
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		ip := hostOf(c.RemoteAddr().String())
		l.mu.Lock()
		reason := ""
		switch {
		case l.total >= l.limits.MaxConns:
			reason = "total"
		case l.bySource[ip] >= l.limits.MaxPerSource:
			reason = "per_source"
		default:
			l.total++
			l.bySource[ip]++
		}
		l.mu.Unlock()
		if reason != "" {
			c.Close()
			l.s.guard.tcpRefuse.WithLabelValues(reason).Inc()
			if first, _ := l.s.guard.limit(ip); first {
				l.s.guard.log.Warn("sip: TCP connection refused, cap reached (logged once per source per interval)", "src", c.RemoteAddr().String(), "cap", reason)
			}
			continue
		}
		if l.tlsConf != nil {
			c = tls.Server(c, l.tlsConf)
		}
		return newGuardConn(c, l, ip), nil
	}
}

func (l *guardListener) release(ip string) {
	l.mu.Lock()
	l.total--
	if l.bySource[ip]--; l.bySource[ip] <= 0 {
		delete(l.bySource, ip)
	}
	l.mu.Unlock()
}

// Conns is the number of open SIP TCP connections accepted.
func (l *guardListener) Conns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// guardConn frames the SIP messages of one TCP connection itself (RFC 3261
// 18.3: by Content-Length) and hands sipgo only whole messages that passed
// inspect; the rest is answered (400/505/513) on the connection. It sets
// the read deadlines: a message once begun must be complete within
// MessageRead, and an idle connection closes after FirstMessage, Idle or
// RegisteredIdlee depending on what it has carried.
type guardConn struct {
	net.Conn
	l     *guardListener
	ip    string
	once  sync.Once
	buf   []byte   // received, not yet framed
	ready []byte   // framed and checked, not yet read by sipgo
	rbuf  []byte   // read array, reused while framing keeps up
	src   string   // RemoteAddr().String(), once
	pend  [][]byte // stateless requests framed, not yet served
	out   connWriter

	messages   int
	registered bool
	handshaken bool      // TLS: the handshake was run (see handshake)
	lastMsg    time.Time // last complete message or keep-alive
	msgStart   time.Time // first byte of the message being received
}

func newGuardConn(c net.Conn, l *guardListener, ip string) *guardConn {
	g := &guardConn{Conn: c, l: l, ip: ip, lastMsg: time.Now(), rbuf: make([]byte, minRead), src: c.RemoteAddr().String()}
	g.out.c = c
	return g
}

// Read sizes: a connection reads into an array of its own, minRead bytes
// at first, doubled (up to maxRead) each time a read fills it, so a busy
// connection frames many messages per read system call.
const (
	minRead = 4 << 10
	maxRead = 64 << 10
)

// connWriter writes stateless responses to a connection. While the read
// loop handles the messages of one read (batching), the responses are
// collected and written together when it is done, with one system call
// instead of one per response (REGISTER over one connection, issue 18);
// responses written at other times (after a store query, delayed) go
// out at once.
type connWriter struct {
	c        net.Conn
	mu       sync.Mutex
	batching bool
	buf      []byte
}

// write writes b, or queues it while batching.
func (w *connWriter) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.batching {
		w.buf = append(w.buf, b...)
		return nil
	}
	return writeAll(w.c, b)
}

// batch starts collecting responses.
func (w *connWriter) batch() {
	w.mu.Lock()
	w.batching = true
	w.mu.Unlock()
}

// flush writes what was collected and stops collecting.
func (w *connWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.batching = false
	if len(w.buf) == 0 {
		return
	}
	_ = writeAll(w.c, w.buf) // a broken connection shows on the next read
	if cap(w.buf) > maxRead {
		w.buf = nil // not kept for a flow gone idle
	} else {
		w.buf = w.buf[:0]
	}
}

// Close closes the connection and releases its place under the caps.
// Only the first call closes: when the guard closed a connection, sipgo
// closes it again and warned about the error.
func (c *guardConn) Close() error {
	var err error
	c.once.Do(func() {
		err = c.Conn.Close()
		c.l.release(c.ip)
	})
	return err
}

// Read returns checked whole messages (or an RFC 5626 keep-alive).
func (c *guardConn) Read(b []byte) (n int, err error) {
	defer func() {
		// sipgo's read goroutine has no recover: a panic would end the process.
		if v := recover(); v != nil {
			c.l.s.guard.recovered("tcp framing", v)
			c.Close()
			n, err = 0, io.EOF
		}
	}()
	for len(c.ready) == 0 {
		if err := c.frame(); err != nil {
			return 0, err
		}
		if len(c.ready) > 0 {
			break
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n = copy(b, c.ready)
	c.ready = c.ready[n:]
	return n, nil
}

// fill reads more bytes under the deadline that fits the state.
func (c *guardConn) fill() error {
	if err := c.handshake(); err != nil {
		return err
	}
	lim := c.l.limits
	var deadline time.Time
	var reason string
	switch {
	case !c.msgStart.IsZero():
		deadline, reason = c.msgStart.Add(lim.MessageRead), "partial_message"
	case c.registered:
		deadline, reason = c.lastMsg.Add(lim.RegisteredIdle), "idle"
	case c.messages > 0:
		deadline, reason = c.lastMsg.Add(lim.Idle), "idle"
	default:
		deadline, reason = c.lastMsg.Add(lim.FirstMessage), "no_message"
	}
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return err
	}
	c.room()
	room := c.buf[len(c.buf):cap(c.buf)]
	n, err := c.Conn.Read(room)
	if n > 0 {
		if c.msgStart.IsZero() && len(bytes.Trim(room[:n], "\r\n")) > 0 {
			c.msgStart = time.Now()
		}
		c.buf = c.buf[:len(c.buf)+n]
		if n == len(room) && len(c.rbuf) < maxRead {
			c.rbuf = make([]byte, 2*len(c.rbuf)) // busy: read more at once
		}
	}
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			c.l.s.guard.tcpClosed.WithLabelValues(reason).Inc()
			c.Close()
			return io.EOF // sipgo closes quietly on EOF, loudly on other errors
		}
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		return io.EOF
	}
	return nil
}

// room makes c.buf end in at least minRead/4 free bytes to read into:
// the received bytes not yet framed are moved to the start of the
// connection's read array, or to a larger array for a message longer
// than it. Messages framed from the array are done with (parsed into
// copies, or read by sipgo from ready) before the next read.
func (c *guardConn) room() {
	if len(c.buf) == 0 {
		c.buf = c.rbuf[:0] // and a larger array for a long message goes
	}
	if cap(c.buf)-len(c.buf) >= minRead/4 {
		return
	}
	if len(c.buf)+minRead/4 <= len(c.rbuf) {
		c.buf = c.rbuf[:copy(c.rbuf, c.buf)]
		return
	}
	nb := make([]byte, len(c.buf), 2*len(c.buf)+minRead)
	copy(nb, c.buf)
	c.buf = nb
}

// frame moves the next whole message (or keep-alive) from buf to ready,
// answering and dropping refused ones. It returns an error when the stream
// cannot be framed any more; the connection is then closed.
func (c *guardConn) frame() error {
	// Responses to the messages framed here go out together (connWriter).
	c.out.batch()
	defer c.out.flush()
	defer c.servePending()
	for len(c.buf) > 0 {
		// RFC 5626 3.5.1 keep-alive: CRLFCRLF ping gets sipgo's CRLF pong.
		// It keeps only a flow that has carried messages alive.
		if bytes.HasPrefix(c.buf, []byte("\r\n\r\n")) {
			c.ready, c.buf = c.buf[:4:4], c.buf[4:]
			if c.messages > 0 {
				c.lastMsg = time.Now()
			}
			return nil
		}
		// RFC 3261 7.5: CRLFs before a start line are ignored.
		if c.buf[0] == '\r' || c.buf[0] == '\n' {
			if len(c.buf) < 4 && len(bytes.Trim(c.buf, "\r\n")) == 0 {
				return nil // maybe the start of a ping
			}
			c.buf = c.buf[1:]
			continue
		}
		_, body, ok := headEnd(c.buf)
		if !ok {
			if len(c.buf) > MaxMessageSize {
				return c.refuseStream(problem{code: 513, reason: "Message Too Large", kind: kindTooLarge, detail: "header section over " + strconv.Itoa(MaxMessageSize)})
			}
			return nil
		}
		cl, ok := contentLength(c.buf[:body])
		if !ok {
			// RFC 3261 18.3: without a valid Content-Length the next message
			// cannot be found.
			return c.refuseStream(problem{code: 400, reason: "Bad Content-Length", kind: kindUnparseable, detail: "missing or bad Content-Length on TCP"})
		}
		total := body + cl
		if total > MaxMessageSize {
			return c.refuseStream(problem{code: 513, reason: "Message Too Large", kind: kindTooLarge, detail: strconv.Itoa(total) + " bytes"})
		}
		if len(c.buf) < total {
			return nil
		}
		msg := c.buf[:total:total]
		c.buf = c.buf[total:]
		c.msgStart = time.Time{}
		if len(bytes.TrimLeft(c.buf, "\r\n")) > 0 {
			c.msgStart = time.Now()
		}
		c.lastMsg = time.Now()
		if c.l.s.statelessLine(msg) && len(c.pend) < maxPending {
			c.pend = append(c.pend, msg) // served together, see servePending
			continue
		}
		c.servePending()
		out, parsed, p := inspectMsg(c.l.s.parser, msg)
		if p.kind != "" {
			c.answer(msg, p)
			continue
		}
		c.messages++
		if bytes.HasPrefix(out, []byte("REGISTER ")) {
			c.registered = true
		}
		if req, ok := c.l.s.isStateless(parsed); ok {
			c.serveStateless(req)
			continue
		}
		if c.serveParsed(parsed) {
			continue
		}
		c.ready = out
		return nil
	}
	return nil
}

// maxPending bounds the messages served together (servePending).
const maxPending = 256

// perWorker is the fewest messages of one read served per share: a
// read of fewer than twice as many is served by the read loop alone.
// With many connections (1,000 phones) a read holds one to a few
// REGISTERs and other connections' loops keep the cores busy; over one
// connection at 2,000 registrations/s reads held 8 to 30, and handing
// shares of them to other goroutines cost more wake-ups than it saved
// (4: 2.2 context switches per registration, 16: 1.7; issue 18). A loop
// that falls behind reads more at once (up to maxRead), and its reads
// are then shared.
const perWorker = 16

// servePending checks and serves the stateless requests framed from one
// read (c.pend), in up to UDPReaders shares when there are several: the
// read loop serves the first and the listener's helpers the others (one
// a free helper does not take at once, the read loop serves after its
// own). One goroutine per connection framing, parsing and answering
// every REGISTER of a busy connection in turn was the ceiling over one
// TCP connection (issue 18; over UDP several read loops share the
// socket). Their responses go out together when frame returns
// (connWriter). The messages are slices of the read array: all are
// served before the next read.
func (c *guardConn) servePending() {
	msgs := c.pend
	if len(msgs) == 0 {
		return
	}
	c.pend = c.pend[:0]
	ok := make([]bool, len(msgs))
	workers := min(len(msgs)/perWorker, UDPReaders, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i, m := range msgs {
			ok[i] = c.servePendingOne(m)
		}
	} else {
		c.l.startHelpers()
		var wg sync.WaitGroup
		var mine [UDPReaders]bool // shares no helper took
		for w := 1; w < workers; w++ {
			wg.Add(1)
			select {
			case c.l.shares <- share{c: c, msgs: msgs, ok: ok, w: w, workers: workers, done: &wg}:
			default:
				wg.Done()
				mine[w] = true
			}
		}
		share{c: c, msgs: msgs, ok: ok, w: 0, workers: workers}.serve()
		for w := 1; w < workers; w++ {
			if mine[w] {
				share{c: c, msgs: msgs, ok: ok, w: w, workers: workers}.serve()
			}
		}
		wg.Wait()
	}
	for i, m := range msgs {
		if ok[i] {
			c.messages++
			if bytes.HasPrefix(m, []byte("REGISTER ")) {
				c.registered = true
			}
		}
		msgs[i] = nil
	}
}

// servePendingOne checks and serves one stateless request, or answers
// it as refused; it reports whether it was a good message.
func (c *guardConn) servePendingOne(msg []byte) (good bool) {
	defer func() {
		if v := recover(); v != nil { // as Read's: not in sipgo's goroutine here
			c.l.s.guard.recovered("tcp stateless", v)
			good = false
		}
	}()
	_, parsed, p := inspectMsg(c.l.s.parser, msg)
	if p.kind != "" {
		c.answer(msg, p)
		return false
	}
	req, ok := c.l.s.isStateless(parsed)
	if !ok {
		return false // statelessLine said it was: cannot happen
	}
	c.serveStateless(req)
	return true
}

// serveStateless answers req outside sipgo (HandleStateless), unless its
// source is blocked.
func (c *guardConn) serveStateless(req *sip.Request) {
	if f := c.l.s.opts.ReadFilter; f != nil && !f(c.src) {
		return // a blocked source, as readFilter drops for sipgo
	}
	c.l.s.serveStateless(req, c.transport(), c.src, c.out.write)
}

// transport is the connection's transport, as sipgo names it.
func (c *guardConn) transport() string {
	if c.l.tlsConf != nil {
		return "TLS"
	}
	return "TCP"
}

// serveParsed hands a checked message, parsed once, to its transaction
// (a response to the PBX's client transaction, a request to a server
// transaction of ours: deliverResponseFrom, serveConnTx) instead of to
// sipgo's read loop, which parsed it again (issue 18). It reports false
// when the message is left to sipgo.
func (c *guardConn) serveParsed(msg sip.Message) bool {
	if f := c.l.s.opts.ReadFilter; f != nil && !f(c.src) {
		return false // sipgo's read filter drops it (readFilter)
	}
	switch m := msg.(type) {
	case *sip.Response:
		return c.l.s.deliverResponseFrom(m, c.transport(), c.src)
	case *sip.Request:
		return c.l.s.serveConnTx(m, c.transport(), c.src)
	}
	return false
}

// answer counts a refused message and sends its error response, if any.
func (c *guardConn) answer(msg []byte, p problem) {
	if ok := c.l.s.guard.badInput("TCP", c.src, p); ok && p.code != 0 {
		c.out.flush() // after the responses to the messages before it
		defer c.out.batch()
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		c.Conn.Write(rawResponse(msg, p.code, p.reason, c.l.s.opts.UserAgent))
		c.SetWriteDeadline(time.Time{})
	}
}

// refuseStream answers what can be answered and ends the connection.
func (c *guardConn) refuseStream(p problem) error {
	if p.code != 0 && !answerable(rawHeaders(c.buf)["via"]) {
		p.code = 0
	}
	c.answer(c.buf, p)
	c.l.s.guard.tcpClosed.WithLabelValues("bad_framing").Inc()
	c.buf, c.ready = nil, nil
	c.Close()
	return io.EOF
}

// contentLength reads the Content-Length of a header section (long or
// compact form); ok is false when it is missing, repeated differently or
// not a number. It scans the lines in place: collecting the headers in a
// map (rawHeaders) for this was 7% of the CPU of REGISTERs over 1,000 TCP
// connections (issue 18).
func contentLength(head []byte) (int, bool) {
	var first string // the first value, trimmed
	seen, differ, firstLine := 0, false, true
	var cur []byte // the value being read (a folded line extends it)
	in := false    // the last header line was a Content-Length
	end := func() {
		if !in {
			return
		}
		in = false
		v := string(bytes.TrimSpace(cur))
		if seen++; seen == 1 {
			first = v
		} else if v != first {
			differ = true
		}
	}
	for l := range bytes.Lines(head) {
		l = bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r"))
		if firstLine {
			firstLine = false
			continue
		}
		if len(l) == 0 {
			break // the end of the header section
		}
		if l[0] == ' ' || l[0] == '\t' {
			if in { // RFC 3261 7.3.1: a folded value continues
				cur = append(append(bytes.Clone(cur), ' '), bytes.TrimSpace(l)...)
			}
			continue
		}
		end()
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if bytes.EqualFold(name, []byte("content-length")) || bytes.EqualFold(name, []byte("l")) {
			in, cur = true, bytes.TrimSpace(value)
		}
	}
	end()
	if seen == 0 || differ {
		return 0, false
	}
	n, err := strconv.Atoi(first)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

var _ net.Conn = (*guardConn)(nil)
