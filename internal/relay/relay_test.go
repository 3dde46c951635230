package relay

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/media"
)

// phone is a test phone's RTP and RTCP sockets on a loopback address.
type phone struct {
	tb        testing.TB
	rtp, rtcp *net.UDPConn
	ip        string
}

func newPhone(tb testing.TB, ip string) *phone {
	tb.Helper()
	p := &phone{tb: tb, ip: ip}
	for _, c := range []**net.UDPConn{&p.rtp, &p.rtcp} {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { conn.Close() })
		*c = conn
	}
	return p
}

func (p *phone) port() int { return p.rtp.LocalAddr().(*net.UDPAddr).Port }

// sdp is the phone's description, writing sdpIP (a private address when
// the phone is behind NAT).
func (p *phone) sdp(sdpIP, dir string) []byte {
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\n"+
		"m=audio %[2]d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"+
		"a=rtcp:%[3]d\r\na=candidate:1 1 UDP 1 %[1]s %[2]d typ host\r\na=%[4]s\r\n"+
		"m=video 9000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
		sdpIP, p.port(), p.rtcp.LocalAddr().(*net.UDPAddr).Port, dir)
}

// relayAddr reads the address and ports a rewritten SDP names.
func relayAddr(tb testing.TB, body []byte) (rtp, rtcp netip.AddrPort) {
	tb.Helper()
	var ip string
	var port, rport int
	for _, line := range bytes.Split(body, []byte("\r\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("c=IN IP4 ")):
			ip = string(line[len("c=IN IP4 "):])
		case bytes.HasPrefix(line, []byte("m=audio ")):
			fmt.Sscanf(string(line), "m=audio %d", &port)
		case bytes.HasPrefix(line, []byte("a=rtcp:")):
			fmt.Sscanf(string(line), "a=rtcp:%d", &rport)
		case bytes.HasPrefix(line, []byte("a=candidate")):
			tb.Fatalf("ICE candidate passed on:\n%s", body)
		case bytes.HasPrefix(line, []byte("m=video ")) && !bytes.HasPrefix(line, []byte("m=video 0 ")):
			tb.Fatalf("video stream not refused:\n%s", body)
		}
	}
	a := netip.MustParseAddr(ip)
	return netip.AddrPortFrom(a, uint16(port)), netip.AddrPortFrom(a, uint16(rport))
}

func (p *phone) send(conn *net.UDPConn, to netip.AddrPort, payload string) {
	p.tb.Helper()
	if _, err := conn.WriteToUDPAddrPort([]byte(payload), to); err != nil {
		p.tb.Fatal(err)
	}
}

// expect reads from conn until payload arrives; other packets fail.
func expect(tb testing.TB, conn *net.UDPConn, payload string) netip.AddrPort {
	tb.Helper()
	buf := make([]byte, 2000)
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	n, from, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		tb.Fatalf("waiting for %q: %v", payload, err)
	}
	if string(buf[:n]) != payload {
		tb.Fatalf("got %q, want %q", buf[:n], payload)
	}
	return from
}

// expectNothing fails when conn receives a packet within d.
func expectNothing(tb testing.TB, conn *net.UDPConn, d time.Duration) {
	tb.Helper()
	buf := make([]byte, 2000)
	_ = conn.SetReadDeadline(time.Now().Add(d))
	if n, from, err := conn.ReadFromUDPAddrPort(buf); err == nil {
		tb.Fatalf("unexpected packet %q from %v", buf[:n], from)
	}
}

func mustRelay(tb testing.TB, pool *media.PortPool) *Relay {
	tb.Helper()
	r, err := New(Options{Pool: pool, BindIP: "127.0.0.1"})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func mustOpen(tb testing.TB, r *Relay) *Session {
	tb.Helper()
	s, err := r.Open()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// pass passes the SDP body from side's phone (signalled from src) and
// returns where the SDP the other phone gets tells it to send RTP and RTCP:
// the relay's ports of the other phone's leg.
func pass(tb testing.TB, s *Session, side Side, body []byte, src string) (rtp, rtcp netip.AddrPort) {
	tb.Helper()
	out, err := s.Pass(side, body, src)
	if err != nil {
		tb.Fatal(err)
	}
	return relayAddr(tb, out)
}

// Both phones on their own addresses, neither behind NAT: the SDP each
// gets names the relay, and RTP and RTCP go both ways through it.
func TestRelayBothWays(t *testing.T) {
	a, b := newPhone(t, "127.0.0.1"), newPhone(t, "127.0.0.2")
	s := mustOpen(t, mustRelay(t, media.NewPortPool(0, 0)))
	bRTP, bRTCP := pass(t, s, A, a.sdp("127.0.0.1", "sendrecv"), "127.0.0.1:5060") // where B sends
	aRTP, aRTCP := pass(t, s, B, b.sdp("127.0.0.2", "sendrecv"), "127.0.0.2:5060") // where A sends
	if bRTP.Port() != uint16(s.Leg(B).Port()) || aRTP.Port() != uint16(s.Leg(A).Port()) {
		t.Fatalf("ports: B is told %v (leg %d), A is told %v (leg %d)", bRTP, s.Leg(B).Port(), aRTP, s.Leg(A).Port())
	}
	// B is not behind NAT: it gets A's first packet before it spoke.
	a.send(a.rtp, aRTP, "pkt-a1")
	if from := expect(t, b.rtp, "pkt-a1"); from != bRTP {
		t.Fatalf("B got RTP from %v, want the relay's %v", from, bRTP)
	}
	b.send(b.rtp, bRTP, "pkt-b1")
	expect(t, a.rtp, "pkt-b1")
	a.send(a.rtcp, aRTCP, "a-rtcp")
	expect(t, b.rtcp, "a-rtcp")
	b.send(b.rtcp, bRTCP, "b-rtcp")
	expect(t, a.rtcp, "b-rtcp")
	if !s.Leg(A).Latched() || !s.Leg(B).Latched() {
		t.Fatal("legs not latched")
	}
}

// A phone behind NAT writes its private address in SDP and sends from its
// NAT's address (its signalling flow's): nothing is sent to the private
// address; once it speaks the relay latches to where it speaks from.
func TestRelayLatchesNattedPhone(t *testing.T) {
	office, home := newPhone(t, "127.0.0.1"), newPhone(t, "127.0.0.3")
	s := mustOpen(t, mustRelay(t, media.NewPortPool(0, 0)))
	homeRTP, _ := pass(t, s, A, office.sdp("127.0.0.1", "sendrecv"), "127.0.0.1")
	officeRTP, _ := pass(t, s, B, home.sdp("192.168.1.20", "sendrecv"), "127.0.0.3:40000")
	office.send(office.rtp, officeRTP, "early")
	expectNothing(t, home.rtp, 100*time.Millisecond)
	if got := s.Leg(B).Remote(); got.IsValid() {
		t.Fatalf("sends to %v before the NATed phone spoke", got)
	}
	home.send(home.rtp, homeRTP, "pkt-h1")
	expect(t, office.rtp, "pkt-h1")
	office.send(office.rtp, officeRTP, "pkt-o1")
	expect(t, home.rtp, "pkt-o1")
	if got, want := s.Leg(B).Remote(), home.rtp.LocalAddr().(*net.UDPAddr).AddrPort(); got != want {
		t.Fatalf("latched to %v, want %v", got, want)
	}
}

// A third address is dropped before the phone's first packet and after
// latching (issue 15 item 5).
func TestRelayDropsThirdAddress(t *testing.T) {
	a, b := newPhone(t, "127.0.0.1"), newPhone(t, "127.0.0.2")
	intruder := newPhone(t, "127.0.0.9")
	s := mustOpen(t, mustRelay(t, media.NewPortPool(0, 0)))
	bRTP, _ := pass(t, s, A, a.sdp("127.0.0.1", "sendrecv"), "127.0.0.1")
	aRTP, _ := pass(t, s, B, b.sdp("127.0.0.2", "sendrecv"), "127.0.0.2")
	intruder.send(intruder.rtp, aRTP, "injected")
	expectNothing(t, b.rtp, 100*time.Millisecond)
	if s.Leg(A).Latched() {
		t.Fatal("a third address latched the caller's leg")
	}
	a.send(a.rtp, aRTP, "pkt-a1")
	expect(t, b.rtp, "pkt-a1")
	intruder.send(intruder.rtp, aRTP, "injected")
	intruder.send(intruder.rtp, bRTP, "injected")
	expectNothing(t, b.rtp, 100*time.Millisecond)
	expectNothing(t, a.rtp, 50*time.Millisecond)
	if d := s.Leg(A).Dropped.Load() + s.Leg(B).Dropped.Load(); d < 3 {
		t.Fatalf("dropped %d packets, want 3", d)
	}
	s.Close()
	if relayed, dropped := s.r.Packets(); relayed != 1 || dropped < 3 {
		t.Fatalf("relay totals after close: %d relayed, %d dropped", relayed, dropped)
	}
}

// A re-INVITE to a new address (a phone moving, or resuming from
// another port) latches again; hold stops the no-media clock.
func TestRelayReinvite(t *testing.T) {
	a, b, b2 := newPhone(t, "127.0.0.1"), newPhone(t, "127.0.0.2"), newPhone(t, "127.0.0.2")
	s := mustOpen(t, mustRelay(t, media.NewPortPool(0, 0)))
	bRTP, _ := pass(t, s, A, a.sdp("127.0.0.1", "sendrecv"), "")
	aRTP, _ := pass(t, s, B, b.sdp("127.0.0.2", "sendrecv"), "")
	b.send(b.rtp, bRTP, "pkt-b1")
	expect(t, a.rtp, "pkt-b1")
	if s.OnHold() {
		t.Fatal("on hold before any hold")
	}
	pass(t, s, A, a.sdp("127.0.0.1", "sendonly"), "")
	if !s.OnHold() {
		t.Fatal("sendonly is not hold")
	}
	pass(t, s, B, b2.sdp("127.0.0.2", "sendrecv"), "")
	a.send(a.rtp, aRTP, "to-new")
	expect(t, b2.rtp, "to-new")
	b2.send(b2.rtp, bRTP, "pkt-b2")
	expect(t, a.rtp, "pkt-b2")
	b.send(b.rtp, bRTP, "old-port")
	expectNothing(t, a.rtp, 50*time.Millisecond) // b2 is the leg's phone now
}

// Close frees both port pairs and the read loops; Idle counts from the
// last packet.
func TestRelayCloseFreesPorts(t *testing.T) {
	before := runtime.NumGoroutine()
	low := 30000 + 2*(int(time.Now().UnixNano()/1000)%5000)
	pool := media.NewPortPool(low, low+7) // four pairs: two calls
	r := mustRelay(t, pool)
	s1, s2 := mustOpen(t, r), mustOpen(t, r)
	if _, err := r.Open(); err == nil {
		t.Fatal("a third call got ports from a pool of two calls")
	}
	if p := s1.Leg(A).Port(); p%2 != 0 || s1.Leg(A).RTCPPort() != p+1 {
		t.Fatalf("RTP %d, RTCP %d: want an even port and the one above", p, s1.Leg(A).RTCPPort())
	}
	if r.Active() != 2 || pool.InUse() != 4 {
		t.Fatalf("active %d, ports in use %d", r.Active(), pool.InUse())
	}
	time.Sleep(20 * time.Millisecond)
	if s1.Idle() < 20*time.Millisecond {
		t.Fatalf("idle %v", s1.Idle())
	}
	s1.Close()
	s2.Close()
	s1.Close()
	if r.Active() != 0 || pool.InUse() != 0 {
		t.Fatalf("after close: active %d, ports in use %d", r.Active(), pool.InUse())
	}
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left, %d before", n, before)
	}
}

// The per-leg transforms (the SRTP hook) see every packet: In on what a
// leg's phone sent, Out on what it is sent.
func TestRelayTransforms(t *testing.T) {
	a, b := newPhone(t, "127.0.0.1"), newPhone(t, "127.0.0.2")
	s := mustOpen(t, mustRelay(t, media.NewPortPool(0, 0)))
	s.Leg(A).In = func(p []byte, rtcp bool) ([]byte, bool) { return append(p, "+inA"...), true }
	s.Leg(B).Out = func(p []byte, rtcp bool) ([]byte, bool) { return append(p, "+outB"...), !rtcp }
	pass(t, s, A, a.sdp("127.0.0.1", "sendrecv"), "")
	aRTP, aRTCP := pass(t, s, B, b.sdp("127.0.0.2", "sendrecv"), "")
	a.send(a.rtp, aRTP, "pkt-x")
	expect(t, b.rtp, "pkt-x+inA+outB")
	a.send(a.rtcp, aRTCP, "pkt-r")
	expectNothing(t, b.rtcp, 50*time.Millisecond)
}

// The packet path allocates nothing.
func TestForwardAllocatesNothing(t *testing.T) {
	b := newPhone(t, "127.0.0.2")
	s := mustOpen(t, mustRelay(t, media.NewPortPool(0, 0)))
	pass(t, s, A, b.sdp("127.0.0.1", "sendrecv"), "")
	pass(t, s, B, b.sdp("127.0.0.2", "sendrecv"), "")
	pkt := make([]byte, 172)
	src := netip.MustParseAddrPort("127.0.0.1:4000")
	s.forward(s.Leg(A), false, pkt, src) // latches
	if n := testing.AllocsPerRun(200, func() { s.forward(s.Leg(A), false, pkt, src) }); n != 0 {
		t.Fatalf("%v allocations per packet", n)
	}
}
