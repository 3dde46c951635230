// Package signaling owns the SIP user agent: one sipgo UserAgent shared by the
// server and the client (so replies come back to the listening sockets), the
// UDP and TCP listeners, and a router that sends out-of-dialog requests to
// method handlers and in-dialog requests to the component that owns the
// dialog (keyed by Call-ID). Components (registrar, feature, b2bua, presence)
// register with it; they never create listeners of their own.
package signaling

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// MaxMessageSize is the largest SIP message accepted; larger ones are refused
// by the parser (UDP) or close the connection (TCP).
const MaxMessageSize = 16 * 1024

// UDPReadBuffer is the receive buffer asked for on the UDP socket.
const UDPReadBuffer = 4 << 20

// UDPReaders is the most read loops on the UDP socket (one while it
// keeps up, udpread.go); TCP listeners share a read among as many.
const UDPReaders = 4

// Options configure the SIP server.
type Options struct {
	UDPAddr   string // "host:port"; "" disables UDP
	TCPAddr   string // "host:port"; "" disables TCP
	Hostname  string // host advertised in Via/Contact; defaults to the listen IP
	Domain    string // SIP domain of the PBX's own URIs; defaults to Hostname
	UserAgent string // User-Agent / Server header value
	Logger    *slog.Logger
	// ReadFilter, if set, drops datagrams and connections from sources for
	// which it returns false (used to shed blocked brute-force sources).
	ReadFilter func(src string) bool
	// TCP bounds TCP connections; zero fields take DefaultTCPLimits.
	// The TLS listener has the same caps, counted on its own.
	TCP TCPLimits
	// TLSAddr is the SIP over TLS listen address ("" disables it) and
	// TLSConfig its server configuration (see ServerTLSConfig).
	TLSAddr   string
	TLSConfig *tls.Config
	// ClientTLS configures TLS connections the PBX opens (to a trunk);
	// nil: Go's defaults (system roots, host name verified).
	ClientTLS *tls.Config
}

// DialogHandler receives in-dialog requests (ACK, BYE, CANCEL, INFO, UPDATE,
// PRACK, re-INVITE, in-dialog SUBSCRIBE/NOTIFY) for a Call-ID it owns. It must
// answer tx itself (except for ACK) and must not block for long: hand the
// request to the goroutine that owns the call.
type DialogHandler interface {
	HandleInDialog(req *sip.Request, tx sip.ServerTransaction)
}

// DialogHandlerFunc adapts a function to DialogHandler.
type DialogHandlerFunc func(req *sip.Request, tx sip.ServerTransaction)

// HandleInDialog calls f.
func (f DialogHandlerFunc) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) { f(req, tx) }

// Server is the PBX's SIP endpoint.
type Server struct {
	UA     *sipgo.UserAgent
	Server *sipgo.Server
	Client *sipgo.Client

	opts   Options
	log    *slog.Logger
	guard  *guard
	parser *sip.Parser
	udp    net.PacketConn // the socket: *udpSock, read by serveUDP
	pass   *passConn      // what serveUDP leaves to sipgo's read loop
	tcp    *guardListener
	tls    *guardListener

	mu       sync.RWMutex
	handlers map[sip.RequestMethod]sipgo.RequestHandler
	// stateless methods are answered outside sipgo (HandleStateless).
	stateless map[sip.RequestMethod]bool
	// picks select requests of a method answered statelessly (HandleStatelessIf).
	picks     map[sip.RequestMethod]picked
	answered  answered     // UDP responses sent statelessly, for retransmissions
	invites   answered     // UDP INVITEs handled through sipgo, for late retransmissions (routeInvite)
	clients   clientTxs    // UDP client transactions, for their responses (deliverResponse)
	servers   serverTxs    // UDP server transactions of requests read here (serveTx)
	completed completedTxs // answered non-INVITE UDP transactions, for retransmissions (completed.go)
	txLog     *slog.Logger
	dialogs   map[string]DialogHandler
}

// New creates the user agent, server and client. Call Listen to bind.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "Hotdesk PBX"
	}
	parser := sip.NewParser()
	parser.MaxMessageLength = MaxMessageSize
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		guard:    newGuard(opts.Logger),
		parser:   parser,
		handlers: make(map[sip.RequestMethod]sipgo.RequestHandler),
		dialogs:  make(map[string]DialogHandler),
	}
	return s, nil
}

// Listen binds the configured sockets synchronously so that errors (port in
// use) are returned to the caller, then builds the user agent advertising the
// bound address.
func (s *Server) Listen() error {
	port, host, err := s.bindRetrying()
	if err != nil {
		return err
	}
	if err := s.bindTLS(); err != nil {
		s.closeListeners()
		return fmt.Errorf("listen sip tls: %w", err)
	}
	if h := s.opts.Hostname; h != "" {
		host = h
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	s.opts.Hostname = host

	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(s.opts.UserAgent),
		sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentParser(s.parser),
	}
	if s.opts.ClientTLS != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(s.opts.ClientTLS))
	}
	// sipgo logs unparseable input at ERROR with its payload, once per
	// packet: its layers get a logger that drops payloads and repeats.
	quiet := slog.New(newQuietHandler(s.log.Handler()))
	s.txLog = quiet.With("caller", "TransactionLayer")
	// One call each: sipgo keeps only the last option list it is given.
	tpOpts := []sip.TransportLayerOption{sip.WithTransportLayerLogger(quiet), sip.WithTransportLayerReadFilter(s.readFilter)}
	uaOpts = append(uaOpts,
		sipgo.WithUserAgentTransportLayerOptions(tpOpts...),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet),
			sip.WithTransactionLayerUnhandledResponseHandler(s.strayResponse)))
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		s.closeListeners()
		return fmt.Errorf("sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(s.log))
	if err != nil {
		s.closeListeners()
		return fmt.Errorf("sip server: %w", err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port), sipgo.WithClientLogger(s.log))
	if err != nil {
		s.closeListeners()
		return fmt.Errorf("sip client: %w", err)
	}
	cli.TxRequester = &sourceRequester{s: s} // UDP requests leave from the listening socket
	s.UA, s.Server, s.Client = ua, srv, cli
	for _, m := range routed {
		m := m
		srv.OnRequest(m, func(req *sip.Request, tx sip.ServerTransaction) { s.route(m, req, tx) })
	}
	return nil
}

// bindTries bounds the search for an ephemeral port free on both UDP and
// TCP.
const bindTries = 20

// bindRetrying binds the sockets. When UDP asks for an ephemeral port that
// TCP must share, the TCP port may already be taken by someone else's
// connection: then it tries another UDP port, a bounded number of times.
func (s *Server) bindRetrying() (port int, host string, err error) {
	shared := s.opts.UDPAddr != "" && s.opts.TCPAddr != "" && hasPortZero(s.opts.UDPAddr) && hasPortZero(s.opts.TCPAddr)
	for try := 1; ; try++ {
		port, host, err = s.bind()
		if err == nil || !shared || !errors.Is(err, syscall.EADDRINUSE) || try == bindTries {
			return port, host, err
		}
	}
}

func hasPortZero(addr string) bool {
	_, p, err := net.SplitHostPort(addr)
	return err == nil && p == "0"
}

// bind opens the UDP and TCP listeners; on failure none stays open.
func (s *Server) bind() (port int, host string, err error) {
	if s.opts.UDPAddr != "" {
		c, err := net.ListenPacket("udp", s.opts.UDPAddr)
		if err != nil {
			return 0, "", fmt.Errorf("listen sip udp: %w", err)
		}
		// Bursts of REGISTERs overflow the default ~200 KB socket buffer
		// (each drop costs the phone a 500 ms retransmission). The kernel
		// caps this at net.core.rmem_max; failing to raise it is harmless.
		uc := c.(*net.UDPConn)
		_ = uc.SetReadBuffer(UDPReadBuffer)
		sock, err := newUDPSock(uc)
		if err != nil {
			c.Close()
			return 0, "", fmt.Errorf("listen sip udp: %w", err)
		}
		s.udp, s.pass = sock, newPassConn(sock)
		port = c.LocalAddr().(*net.UDPAddr).Port
		host = c.LocalAddr().(*net.UDPAddr).IP.String()
	}
	if s.opts.TCPAddr != "" {
		addr := s.opts.TCPAddr
		if s.udp != nil && hasPortZero(addr) {
			// Same port on both transports when UDP got an ephemeral one.
			h, _, _ := net.SplitHostPort(addr)
			addr = net.JoinHostPort(h, strconv.Itoa(port))
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			s.closeListeners()
			s.udp = nil
			return 0, "", fmt.Errorf("listen sip tcp: %w", err)
		}
		s.tcp = newGuardListener(l, s, s.opts.TCP)
		if port == 0 {
			port = l.Addr().(*net.TCPAddr).Port
		}
		if host == "" {
			host = l.Addr().(*net.TCPAddr).IP.String()
		}
	}
	return port, host, nil
}

// Serve serves the bound listeners until ctx is done.
func (s *Server) Serve(ctx context.Context) error {
	if s.Server == nil {
		return errors.New("signaling: Serve before Listen")
	}
	errc := make(chan error, 2+UDPReaders)
	n := 0
	if s.udp != nil {
		// The PBX's read loop (udpread.go) and sipgo's, which reads only
		// what the PBX's leaves to it.
		n += 2
		go func() { errc <- s.serveUDP(s.udp.(*udpSock), s.pass) }()
		go func() { errc <- s.Server.ServeUDP(s.pass) }()
	}
	if s.tcp != nil {
		n++
		go func() { errc <- s.Server.ServeTCP(s.tcp) }()
	}
	if s.tls != nil {
		n++
		// The listener's connections are TLS already (guardListener).
		go func() { errc <- s.Server.ServeTLS(s.tls) }()
	}
	go func() {
		t := time.NewTicker(answeredFor)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				s.answered.expire(now)
				s.invites.expire(now)
			}
		}
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		n--
	}
	s.closeListeners()
	for ; n > 0; n-- {
		<-errc
	}
	s.servers.terminateAll()
	s.completed.stop()
	s.UA.Close()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("serve sip: %w", err)
	}
	return nil
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
		s.pass.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.tls != nil {
		s.tls.Close()
	}
}

// Hostname is the host advertised in Via and Contact headers.
func (s *Server) Hostname() string { return s.opts.Hostname }

// UDPAddr is the bound UDP address, or nil.
func (s *Server) UDPAddr() *net.UDPAddr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr().(*net.UDPAddr)
}

// TCPAddr is the bound TCP address, or nil.
func (s *Server) TCPAddr() *net.TCPAddr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr().(*net.TCPAddr)
}

// Handle sets the handler for out-of-dialog requests of a method. INVITE
// handlers see only initial INVITEs (no To tag); re-INVITEs go to dialogs.
func (s *Server) Handle(method sip.RequestMethod, h sipgo.RequestHandler) {
	s.mu.Lock()
	s.handlers[method] = h
	s.mu.Unlock()
}

// AddDialog routes in-dialog requests with this Call-ID to h.
func (s *Server) AddDialog(callID string, h DialogHandler) {
	s.mu.Lock()
	s.dialogs[callID] = h
	s.mu.Unlock()
}

// RemoveDialog stops routing callID.
func (s *Server) RemoveDialog(callID string) {
	s.mu.Lock()
	delete(s.dialogs, callID)
	s.mu.Unlock()
}

// Dialogs returns how many dialogs are routed (for metrics and leak tests).
func (s *Server) Dialogs() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.dialogs)
}

func (s *Server) route(m sip.RequestMethod, req *sip.Request, tx sip.ServerTransaction) {
	if m == sip.INVITE {
		s.routeInvite(req, tx)
		return
	}
	s.routeTo(m, req, tx, nil)
}

// routeTo is route with the handler of out-of-dialog requests given (nil:
// the method's).
func (s *Server) routeTo(m sip.RequestMethod, req *sip.Request, tx sip.ServerTransaction, out sipgo.RequestHandler) {
	defer s.recoverRequest(m, req, tx)
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	if req.To() == nil || req.From() == nil || req.CSeq() == nil {
		// readFilter refuses these already; never dereference them here.
		if m != sip.ACK {
			res := NewResponse(req, sip.StatusBadRequest)
			res.Reason = "Missing Mandatory Header"
			Send(tx, res, s.log)
		}
		return
	}
	markReceived(req)
	s.mu.RLock()
	d := s.dialogs[callID]
	h := s.handlers[m]
	s.mu.RUnlock()
	if out != nil {
		h = out
	}

	_, hasToTag := req.To().Params.Get("tag")
	inDialog := hasToTag || m == sip.ACK || m == sip.CANCEL || m == sip.BYE || m == sip.INFO || m == sip.PRACK || m == sip.UPDATE
	if d != nil && (inDialog || m == sip.INVITE) {
		d.HandleInDialog(req, tx)
		return
	}
	if inDialog && m != sip.SUBSCRIBE && m != sip.NOTIFY && m != sip.REGISTER && m != sip.OPTIONS {
		if m != sip.ACK {
			Respond(tx, req, sip.StatusCallTransactionDoesNotExists, s.log)
		}
		return
	}
	if h == nil {
		if m != sip.ACK {
			Respond(tx, req, sip.StatusMethodNotAllowed, s.log,
				sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, PRACK, REGISTER, SUBSCRIBE, NOTIFY"))
		}
		return
	}
	h(req, tx)
}

// recoverRequest is the last line of defence: a panic while handling one
// request (sipgo runs each in its own goroutine, where a panic ends the
// process) is counted, logged once per kind and answered 500.
func (s *Server) recoverRequest(m sip.RequestMethod, req *sip.Request, tx sip.ServerTransaction) {
	v := recover()
	if v == nil {
		return
	}
	s.guard.recovered(string(m), v)
	if m == sip.ACK || tx == nil {
		return
	}
	defer func() { _ = recover() }() // a request too broken to answer
	Respond(tx, req, sip.StatusInternalServerError, s.log)
}

// readFilter sees every datagram and TCP read before sipgo parses it. It
// drops blocked sources. TCP reads are whole messages already checked by
// guardConn; datagrams read on the listening socket were checked by
// filterUDP in the PBX's read loop (serveUDP), which hands sipgo only
// what it leaves to it (through passConn); others (none: the user agent
// sends from the listening socket) are checked here.
func (s *Server) readFilter(info sip.TransportReadProps, data []byte) (_ []byte, err error) {
	defer func() {
		// sipgo calls this in its read loop: a panic would end the process.
		if v := recover(); v != nil {
			s.guard.recovered("read filter", v)
		}
	}()
	// Drop by returning no data: an error would end the UDP read loop.
	if f := s.opts.ReadFilter; f != nil && info.RemoteAddr != nil && !f(info.RemoteAddr.String()) {
		return nil, nil
	}
	if info.Transport != "UDP" || (s.pass != nil && info.LocalAddr == net.Addr(s.pass.local)) {
		return data, nil
	}
	src, _ := info.RemoteAddr.(*net.UDPAddr)
	return s.checkUDP(data, info.LocalAddr, src), nil
}

// filterUDP is what the read filter does with a datagram read on the
// listening socket from src: it drops blocked sources, checks it with
// inspect (refused ones are counted, logged at most once per source per
// interval, answered when they can be and never reach sipgo), serves it
// when it can and returns what is left for sipgo (nil: nothing).
func (s *Server) filterUDP(data []byte, src *net.UDPAddr) (out []byte) {
	defer func() {
		// In the read loop: a panic would end the process.
		if v := recover(); v != nil {
			s.guard.recovered("read filter", v)
			out = nil
		}
	}()
	if f := s.opts.ReadFilter; f != nil && !f(src.String()) {
		return nil
	}
	return s.checkUDP(data, s.udp.LocalAddr(), src)
}

// checkUDP checks and serves a datagram read on local from src.
func (s *Server) checkUDP(data []byte, local net.Addr, src *net.UDPAddr) []byte {
	if len(bytes.Trim(data, "\r\n")) == 0 {
		return nil // keep-alive
	}
	out, msg, p := inspectMsg(s.parser, data)
	if p.kind == "" {
		if req, ok := s.isStateless(msg); ok {
			if src != nil {
				s.serveStatelessUDP(req, src)
				return nil
			}
		} else if req != nil && src != nil && s.statelessAck(req, src.String()) {
			return nil
		} else if res, ok := msg.(*sip.Response); ok && src != nil && s.deliverResponse(res, src) {
			return nil // parsed once: straight to its transaction
		} else if req != nil && src != nil && s.serveTx(req, local, src) {
			return nil // parsed once: in a server transaction of ours
		}
		return out
	}
	if src == nil {
		return nil
	}
	if s.guard.badInput("UDP", src.String(), p) && p.code != 0 && s.udp != nil {
		// Sent to the packet's source, never to an address from its Via.
		_, _ = s.udp.WriteTo(rawResponse(data, p.code, p.reason, s.opts.UserAgent), src)
	}
	return nil
}

// strayResponse counts a response that matches no transaction (sipgo
// logged each at INFO through the default logger): logged once per source
// per interval like bad input.
func (s *Server) strayResponse(res *sip.Response) {
	s.guard.badInput(res.Transport(), res.Source(), problem{kind: kindStray, detail: res.StartLine()})
}

// Collectors are the server's Prometheus metrics: refused input, recovered
// panics, TCP connections refused, closed and open.
func (s *Server) Collectors() []prometheus.Collector {
	cs := s.guard.collectors()
	cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hotdesk_sip_tcp_connections", Help: "Open SIP TCP connections accepted by the PBX.",
	}, func() float64 {
		if s.tcp == nil {
			return 0
		}
		return float64(s.tcp.Conns())
	}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hotdesk_sip_tls_connections", Help: "Open SIP TLS connections accepted by the PBX.",
	}, func() float64 {
		if s.tls == nil {
			return 0
		}
		return float64(s.tls.Conns())
	}))
	return cs
}
