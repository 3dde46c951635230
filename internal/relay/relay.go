// Package relay anchors a call's media in the PBX (issue 15 item 2): each
// anchored call gets one RTP/RTCP port pair per side from the --rtp-ports
// pool, the SDP of each side is rewritten to point at the pair the other
// side's packets arrive on, and packets are copied across with symmetric
// latching: a side's stream is sent to the address its packets come
// from, once one has come from the address in its SDP or from its
// signalling flow's address; packets from any other address are dropped,
// before and after latching.
//
// The packet path is one function, Session.forward, run by one read loop
// per socket with one reused buffer: no allocation per packet. Each side
// may carry a Transform pair (In on what it receives, Out on what it is
// sent) where SRTP is terminated per leg.
package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/media"
)

// Options configure a Relay.
type Options struct {
	Pool *media.PortPool // required: the --rtp-ports pool, shared with the PBX's own media
	// BindIP is the address the relay's sockets bind to ("0.0.0.0": all).
	BindIP string
	// SDPIP is the address written into rewritten SDP (--public-ip when
	// the PBX is itself behind a 1:1 NAT); default BindIP, or the default
	// route's address when BindIP is unspecified.
	SDPIP  string
	Logger *slog.Logger
}

// Relay opens anchored media sessions. Safe for concurrent use.
type Relay struct {
	o      Options
	bind   net.IP
	sdpIP  netip.Addr
	log    *slog.Logger
	active atomic.Int64
	// Packets of closed sessions (counted at Close, not per packet, so
	// the packet path shares no counter between calls).
	relayed, dropped atomic.Uint64
}

// New checks o and returns a Relay.
func New(o Options) (*Relay, error) {
	if o.Pool == nil {
		return nil, errors.New("relay: Pool is required")
	}
	if o.BindIP == "" {
		o.BindIP = "0.0.0.0"
	}
	bind := net.ParseIP(o.BindIP)
	if bind == nil {
		return nil, fmt.Errorf("relay: bind address %q is not an IP address", o.BindIP)
	}
	if o.SDPIP == "" {
		o.SDPIP = o.BindIP
		if bind.IsUnspecified() {
			o.SDPIP = outboundIP(bind.To4() != nil)
		}
	}
	sdpIP, err := netip.ParseAddr(o.SDPIP)
	if err != nil {
		return nil, fmt.Errorf("relay: SDP address %q: %w", o.SDPIP, err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Relay{o: o, bind: bind, sdpIP: sdpIP.Unmap(), log: o.Logger}, nil
}

// Active is the number of open sessions.
func (r *Relay) Active() int { return int(r.active.Load()) }

// Packets returns the packets relayed and dropped (third address, or
// nowhere to send yet) by the sessions closed so far.
func (r *Relay) Packets() (relayed, dropped uint64) { return r.relayed.Load(), r.dropped.Load() }

// SDPIP is the address rewritten SDP names.
func (r *Relay) SDPIP() netip.Addr { return r.sdpIP }

// outboundIP is the local address of the default route (no packet is sent).
func outboundIP(v4 bool) string {
	target, fallback := "192.0.2.1:9", "127.0.0.1"
	if !v4 {
		target, fallback = "[2001:db8::1]:9", "::1"
	}
	c, err := net.Dial("udp", target)
	if err != nil {
		return fallback
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}

// Side names one side of a session: A the caller, B the callee.
type Side int

// The two sides of a call.
const (
	A Side = 0
	B Side = 1
)

func (s Side) other() Side { return 1 - s }

func (s Side) String() string {
	if s == A {
		return "a"
	}
	return "b"
}

// Transform rewrites one packet on its way through a leg (SRTP
// termination: In decrypts what the leg's phone sent, Out encrypts what
// it is sent). pkt is the packet in a buffer of cap bytes it may grow
// into; it returns the packet to go on with, or ok false to drop it.
type Transform func(pkt []byte, rtcp bool) (out []byte, ok bool)

// Leg is one side's port pair and what is known of its phone.
type Leg struct {
	s     *Session
	side  Side
	rtp   *net.UDPConn
	rtcp  *net.UDPConn
	ports [2]int // pool ports to release ([0] RTP; [1] RTCP when not from the pool's pair)
	st    atomic.Pointer[legState]

	// In and Out are the leg's transforms; nil passes packets unchanged.
	// Set them before packets flow (before the SDP is passed on).
	In, Out Transform

	// Packet counters (RTP and RTCP): received and accepted from the
	// phone, dropped (third address, or nowhere to send yet), sent to it.
	Received, Dropped, Sent atomic.Uint64
}

// legState is a leg's immutable state, replaced whole when it changes (SDP
// learnt, address latched), so the packet path reads it with one atomic
// load.
type legState struct {
	sdp     netip.AddrPort // RTP address in the phone's SDP
	sdpRTCP netip.AddrPort // its a=rtcp, else port+1
	flow    netip.Addr     // where the phone's signalling comes from
	rtp     netip.AddrPort // latched RTP source, zero until latched
	rtcpSrc netip.AddrPort // latched RTCP source
	dir     string         // the SDP's direction attribute
}

// allowed reports whether a packet from ip may latch the leg.
func (st *legState) allowed(ip netip.Addr) bool {
	return (st.sdp.IsValid() && st.sdp.Addr() == ip) || (st.flow.IsValid() && st.flow == ip)
}

// natted reports whether the phone's SDP address is not where its
// signalling comes from: then nothing is sent to it before it latches.
func (st *legState) natted() bool {
	return st.flow.IsValid() && (!st.sdp.IsValid() || st.sdp.Addr() != st.flow)
}

// dest is where packets for this leg's phone go (RTP or RTCP), invalid
// when nowhere yet.
func (st *legState) dest(rtcp bool) netip.AddrPort {
	if rtcp {
		switch {
		case st.rtcpSrc.IsValid():
			return st.rtcpSrc
		case !st.natted():
			return st.sdpRTCP
		case st.rtp.IsValid():
			return netip.AddrPortFrom(st.rtp.Addr(), st.rtp.Port()+1)
		}
		return netip.AddrPort{}
	}
	if st.rtp.IsValid() {
		return st.rtp
	}
	if !st.natted() {
		return st.sdp
	}
	return netip.AddrPort{}
}

// Session is one anchored call: two legs and the time of the last packet.
type Session struct {
	r    *Relay
	legs [2]*Leg
	last atomic.Int64 // unix nanoseconds of the last packet accepted

	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Open binds a port pair for each side and starts relaying.
func (r *Relay) Open() (*Session, error) {
	s := &Session{r: r}
	for i := range s.legs {
		l, err := r.openLeg(s, Side(i))
		if err != nil {
			s.release()
			return nil, err
		}
		s.legs[i] = l
	}
	s.last.Store(time.Now().UnixNano())
	r.active.Add(1)
	for _, l := range s.legs {
		l.st.Store(&legState{})
		s.wg.Add(2)
		go s.readLoop(l, false)
		go s.readLoop(l, true)
	}
	return s, nil
}

// openLeg binds RTP on an even pool port and RTCP on the odd one above
// (RFC 3550 section 11); an OS-chosen pool (tests) binds both anywhere.
func (r *Relay) openLeg(s *Session, side Side) (*Leg, error) {
	var lastErr error
	for range max(1, r.o.Pool.Size()) {
		port, err := r.o.Pool.Acquire()
		if err != nil {
			return nil, err
		}
		rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: r.bind, Port: port})
		if err != nil {
			r.o.Pool.Release(port)
			lastErr = err
			continue
		}
		rtcpPort := port + 1
		if port == 0 {
			rtcpPort = 0
		}
		rtcp, err := net.ListenUDP("udp", &net.UDPAddr{IP: r.bind, Port: rtcpPort})
		if err != nil {
			rtp.Close()
			r.o.Pool.Release(port)
			lastErr = err
			continue
		}
		return &Leg{s: s, side: side, rtp: rtp, rtcp: rtcp, ports: [2]int{port, -1}}, nil
	}
	return nil, fmt.Errorf("relay: bind RTP port pair: %w", lastErr)
}

// Leg returns one side's leg.
func (s *Session) Leg(side Side) *Leg { return s.legs[side] }

// Port is the leg's RTP port (RTCP is RTCPPort).
func (l *Leg) Port() int { return l.rtp.LocalAddr().(*net.UDPAddr).Port }

// RTCPPort is the leg's RTCP port.
func (l *Leg) RTCPPort() int { return l.rtcp.LocalAddr().(*net.UDPAddr).Port }

// Remote is where the leg's phone is sent RTP: the latched address, else
// the SDP's (invalid when nowhere yet).
func (l *Leg) Remote() netip.AddrPort { return l.st.Load().dest(false) }

// Latched reports whether the leg's phone has been heard from.
func (l *Leg) Latched() bool { return l.st.Load().rtp.IsValid() }

// Idle is how long no packet has come from either side.
func (s *Session) Idle() time.Duration {
	return time.Duration(time.Now().UnixNano() - s.last.Load())
}

// OnHold reports whether either side's last SDP stops media in a
// direction (sendonly, recvonly, inactive): a held call may be silent, so
// the no-media timeout does not apply.
func (s *Session) OnHold() bool {
	for _, l := range s.legs {
		if d := l.st.Load().dir; d != "" && d != "sendrecv" {
			return true
		}
	}
	return false
}

// Close stops relaying, waits for the read loops and frees the ports. It
// is safe to call more than once.
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		for _, l := range s.legs {
			l.rtp.Close()
			l.rtcp.Close()
		}
		s.wg.Wait()
		s.release()
		for _, l := range s.legs {
			s.r.relayed.Add(l.Sent.Load())
			s.r.dropped.Add(l.Dropped.Load())
		}
		s.r.active.Add(-1)
	})
}

// release closes whatever Open bound and gives the ports back.
func (s *Session) release() {
	for _, l := range s.legs {
		if l == nil {
			continue
		}
		l.rtp.Close()
		l.rtcp.Close()
		s.r.o.Pool.Release(l.ports[0])
	}
}
