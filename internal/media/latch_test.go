package media

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// phoneAt is a test phone bound to ip (another loopback address).
func phoneAt(tb testing.TB, ip string) *phone {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &phone{tb, c}
}

// A third address sending telephone-events before the phone's first
// packet neither types digits nor takes the stream: only the SDP's
// address or the signalling flow's address may latch (issue 15 item 5).
func TestThirdAddressCannotLatch(t *testing.T) {
	p := newPhone(t) // 127.0.0.1, written in the SDP
	intruder := phoneAt(t, "127.0.0.5")
	s := mustSession(t, p, "0 101")
	intruder.typeKeys(s.LocalPort(), "9")
	if d, err := s.CollectDigits(context.Background(), 1, 200*time.Millisecond, 0); !errors.Is(err, ErrTimeout) {
		t.Fatalf("digit %q from a third address accepted (%v)", d, err)
	}
	if got := s.RemoteAddr(); got == nil || !got.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("stream taken over: remote %v", got)
	}
	p.typeKeys(s.LocalPort(), "4")
	if d, err := s.CollectDigits(context.Background(), 1, time.Second, 0); d != "4" || err != nil {
		t.Fatalf("phone's digit: %q, %v", d, err)
	}
}

// A phone behind NAT writes its private address in SDP; its packets come
// from the NAT's address, which is where its signalling came from.
func TestLatchToFlowAddress(t *testing.T) {
	natted := phoneAt(t, "127.0.0.7") // the NAT's public side
	s, err := NewSessionWith(SessionOptions{Pool: NewPortPool(0, 0), LocalIP: "127.0.0.1", FlowIP: "127.0.0.7"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if _, err := s.Answer(offerSDP("10.9.8.7", 4000, "0 101")); err != nil {
		t.Fatal(err)
	}
	natted.typeKeys(s.LocalPort(), "3")
	if d, err := s.CollectDigits(context.Background(), 1, time.Second, 0); d != "3" || err != nil {
		t.Fatalf("digit from the flow's address: %q, %v", d, err)
	}
	if got := s.RemoteAddr().Port; got != natted.port() {
		t.Fatalf("latched to port %d, want %d", got, natted.port())
	}
}
