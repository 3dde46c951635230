// Package media is the PBX's own media endpoint for calls it answers itself
// (feature codes): it negotiates G.711, telephone-event and comfort noise
// with SDP offer/answer, plays 8 kHz prompts as 20 ms RTP packets in a
// stream that carries silence between them, and turns RFC 4733
// telephone-events and SIP INFO key presses into digits.
//
// One Session serves one call. It owns one UDP port from a PortPool, one
// goroutine that reads RTP and one that sends it; all are released by
// Close.
package media

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"

	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
)

var (
	// ErrTimeout is returned by CollectDigits when the caller stops typing;
	// the digits typed so far are returned with it.
	ErrTimeout = errors.New("media: timed out waiting for digits")
	// ErrClosed is returned by Play and CollectDigits once Close was called.
	ErrClosed = errors.New("media: session closed")
	// ErrNotNegotiated is returned by Play before Answer or SetAnswer.
	ErrNotNegotiated = errors.New("media: no codec negotiated")
)

// digitBuffer is how many key presses wait for a reader. Producers never
// block: a press beyond this is dropped (and logged).
const digitBuffer = 64

// SessionOptions configures NewSessionWith.
type SessionOptions struct {
	Pool    *PortPool
	LocalIP string       // address to bind and to put in SDP; "0.0.0.0" binds all and advertises the default route's address
	Logger  *slog.Logger // nil discards
	// Security allows SDES-SRTP (over TLS signalling only) and may
	// require it; the zero value is plain RTP only.
	Security Security
}

// Session is one call's media endpoint. Its methods are safe for
// concurrent use; Play calls are serialised.
type Session struct {
	conn   *net.UDPConn
	pool   *PortPool
	port   int // port to give back to the pool
	sdpIP  net.IP
	log    *slog.Logger
	digits chan rune
	done   chan struct{}

	mu       sync.Mutex // guards the fields below
	neg      *negotiated
	remote   *net.UDPAddr // where RTP goes: from SDP, then from the first packet received
	latched  bool
	rec      *Recorder // receives the audio while set (Record)
	sec      Security
	srtp     *srtpState  // nil: plain RTP
	ourKey   *cryptoAttr // the key of our offer (Offer), nil before
	keysFrom int         // keysAny, keysRTP or keysINFO: how the call's keys come
	sdpID    uint64
	sdpVer   uint64

	playMu    sync.Mutex    // one Play at a time
	plays     chan *playJob // Play to sendLoop; holds the one Play of playMu
	started   chan struct{} // closed by Start
	startOnce sync.Once
	tx        sender // sendLoop only

	closeOnce sync.Once
	wg        sync.WaitGroup
	det       dtmf.Detector // reader goroutine only
}

// NewSession opens a media endpoint on a port from pool, bound to localIP.
func NewSession(pool *PortPool, localIP string) (*Session, error) {
	return NewSessionWith(SessionOptions{Pool: pool, LocalIP: localIP})
}

// NewSessionWith is NewSession with a logger.
func NewSessionWith(o SessionOptions) (*Session, error) {
	if o.Pool == nil {
		return nil, errors.New("media: new session: no port pool")
	}
	ip := net.ParseIP(o.LocalIP)
	if ip == nil {
		return nil, fmt.Errorf("media: new session: local IP %q is not an IP address", o.LocalIP)
	}
	conn, port, err := bind(o.Pool, ip)
	if err != nil {
		return nil, err
	}
	sdpIP := ip
	if ip.IsUnspecified() {
		sdpIP = outboundIP(ip.To4() != nil)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		conn: conn, pool: o.Pool, port: port, sdpIP: sdpIP, sec: o.Security,
		log:     log.With("rtp_port", conn.LocalAddr().(*net.UDPAddr).Port),
		digits:  make(chan rune, digitBuffer),
		done:    make(chan struct{}),
		sdpID:   rand.Uint64() >> 1, // SDP session ids fit in 63 bits
		tx:      newSender(),
		plays:   make(chan *playJob, 1),
		started: make(chan struct{}),
	}
	s.wg.Add(2)
	go s.readLoop()
	go s.sendLoop()
	return s, nil
}

// bind takes ports from the pool until one can be bound; a port some other
// program holds is skipped.
func bind(pool *PortPool, ip net.IP) (*net.UDPConn, int, error) {
	var lastErr error
	for range max(1, pool.Size()) {
		port, err := pool.Acquire()
		if err != nil {
			return nil, 0, err
		}
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err == nil {
			return conn, port, nil
		}
		pool.Release(port)
		lastErr = err
		if pool.any {
			break
		}
	}
	return nil, 0, fmt.Errorf("media: bind RTP port: %w", lastErr)
}

// outboundIP is the local address of the default route, used in SDP when
// bound to all interfaces. Dialing UDP sends nothing.
func outboundIP(v4 bool) net.IP {
	target, fallback := "192.0.2.1:9", net.IPv4(127, 0, 0, 1)
	if !v4 {
		target, fallback = "[2001:db8::1]:9", net.IPv6loopback
	}
	c, err := net.Dial("udp", target)
	if err != nil {
		return fallback
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP
}

// LocalPort is the UDP port RTP is received on.
func (s *Session) LocalPort() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// LocalAddr is the bound RTP address.
func (s *Session) LocalAddr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

// Answer accepts an SDP offer and returns the answer: the first of PCMU
// and PCMA in the offer's order plus the offer's telephone-event payload
// type, from localIP and LocalPort. It can be called again for a re-INVITE.
// It returns an error wrapping ErrNotAcceptable (SIP 488) when there is
// nothing in common.
//
// With Security allowing it, an offer's supported a=crypto line makes the
// media SRTP and the answer carries our key; an RTP/SAVP offer that
// cannot be met, or plain RTP when SRTP is required, is ErrNotAcceptable.
func (s *Session) Answer(offerSDP []byte) (answerSDP []byte, err error) {
	n, err := negotiate(offerSDP, s.sec)
	if err != nil {
		return nil, err
	}
	p, err := s.apply(n)
	if err != nil {
		return nil, err
	}
	return buildAnswer(p, n)
}

// Offer returns an SDP offer of PCMU, PCMA and telephone-event, for an
// INVITE that arrived without SDP; pass the ACK's answer to SetAnswer.
func (s *Session) Offer() ([]byte, error) {
	s.mu.Lock()
	s.sdpVer++
	p := sdpParams{ip: s.sdpIP, port: s.LocalPort(), id: s.sdpID, ver: s.sdpVer}
	if s.sec.offers() {
		if s.ourKey == nil {
			s.ourKey = &cryptoAttr{tag: 1, suite: suites[0], key: newKey()}
		}
		p.crypto, p.savp = s.ourKey, s.sec.required()
	}
	s.mu.Unlock()
	return buildOffer(p)
}

// SetAnswer applies the peer's answer to our Offer.
func (s *Session) SetAnswer(answerSDP []byte) error {
	n, err := negotiate(answerSDP, s.sec)
	if err != nil {
		return err
	}
	_, err = s.apply(n)
	return err
}

// apply makes n the negotiated state and returns our SDP parameters. A new
// remote address in the SDP (re-INVITE) undoes latching.
func (s *Session) apply(n *negotiated) (sdpParams, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.applyCrypto(n.crypto); err != nil {
		return sdpParams{}, err
	}
	if s.neg == nil || !sameAddr(s.neg.remote, n.remote) {
		s.remote, s.latched = n.remote, false
	}
	if n.dtmfPT < 0 && s.keysFrom == keysRTP {
		s.keysFrom = keysAny // telephone-event no longer negotiated
	}
	s.neg = n
	s.sdpVer++
	p := sdpParams{ip: s.sdpIP, port: s.LocalPort(), id: s.sdpID, ver: s.sdpVer}
	if s.srtp != nil {
		p.crypto, p.savp = &s.srtp.local, n.savp
	}
	return p, nil
}

func sameAddr(a, b *net.UDPAddr) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.IP.Equal(b.IP) && a.Port == b.Port
}

// Codec is the negotiated codec ("PCMU" or "PCMA"), "" before negotiation.
func (s *Session) Codec() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.neg == nil {
		return ""
	}
	return s.neg.codec.name
}

// RemoteAddr is where RTP is sent: the SDP address until a packet arrives,
// then the address packets come from (symmetric RTP). Nil when unknown.
func (s *Session) RemoteAddr() *net.UDPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remote
}

// Done is closed when the session is closed.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close stops playing and reading, waits for the reader goroutine and
// returns the port to the pool. It is safe to call more than once.
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		_ = s.conn.Close()
		s.wg.Wait()
		s.pool.Release(s.port)
	})
}

func (s *Session) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
