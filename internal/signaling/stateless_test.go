package signaling

import (
	"bufio"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Issue 18: a method handled with HandleStateless is answered outside
// sipgo's transaction layer, over UDP and over TCP, on the socket or
// connection it came from.
func TestStatelessHandlerAnswersUDPAndTCP(t *testing.T) {
	s := mustServe(t, nil)
	var stateless, calls atomic.Int32
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		calls.Add(1)
		if IsStateless(tx) {
			stateless.Add(1)
		}
		tx.Respond(sip.NewResponseFromRequest(req, 200, "Stateless", nil))
	})
	res := exchange(t, s, request("REGISTER", "reg-udp", ""), 5*time.Second)
	if res == nil || res.StatusCode != 200 || res.Reason != "Stateless" {
		t.Fatalf("REGISTER over UDP: %v", res)
	}
	// A retransmission is handled again (no transaction absorbs it).
	raw := sipText("REGISTER", "reg-tcp", "", "", "TCP")
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw = strings.Replace(raw, "TCP ;", "TCP "+c.LocalAddr().String()+";", 1)
	rd := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		c.Write([]byte(raw))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := rd.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "SIP/2.0 200 Stateless") {
			t.Fatalf("REGISTER over TCP (%d): %q %v", i, line, err)
		}
		for line != "\r\n" && err == nil {
			line, err = rd.ReadString('\n')
		}
	}
	if calls.Load() != 3 || stateless.Load() != 3 {
		t.Fatalf("%d calls, %d with a stateless transaction; want 3 and 3", calls.Load(), stateless.Load())
	}
	mustAlive(t, s) // OPTIONS still go through sipgo
}

func TestUDPResponseAddr(t *testing.T) {
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	for _, tt := range []struct{ via, want string }{
		{"SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1;rport", "127.0.0.1:40000"},
		{"SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1", "127.0.0.1:5062"},
		{"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1", "127.0.0.1:5060"},
	} {
		raw := "OPTIONS sip:a@b SIP/2.0\r\nVia: " + tt.via + "\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n" +
			"Call-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
		msg, err := sip.NewParser().ParseSIP([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := udpResponseAddr(msg.(*sip.Request), src).String(); got != tt.want {
			t.Errorf("Via %q: response to %s, want %s", tt.via, got, tt.want)
		}
	}
}

// A UDP retransmission of a request answered statelessly gets the same
// response bytes without being handled again (a REGISTER handled twice
// would answer the retransmitted credentials with a new challenge).
func TestStatelessUDPRetransmissionGetsSameResponse(t *testing.T) {
	s := mustServe(t, nil)
	var calls atomic.Int32
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		n := calls.Add(1)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("X-Call", string(rune('0'+n))))
		tx.Respond(res)
	})
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw := []byte(sipText("REGISTER", "retrans", "", c.LocalAddr().String(), "UDP"))
	var got []string
	buf := make([]byte, 4096)
	for i := 0; i < 3; i++ {
		c.Write(raw)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("copy %d: %v", i, err)
		}
		got = append(got, string(buf[:n]))
	}
	if got[0] != got[1] || got[1] != got[2] || calls.Load() != 1 {
		t.Fatalf("handled %d times; responses:\n%s", calls.Load(), strings.Join(got, "\n---\n"))
	}
	// Another request (new branch) is handled.
	c.Write([]byte(sipText("REGISTER", "retrans", "", c.LocalAddr().String(), "UDP")))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); err != nil || calls.Load() != 2 {
		t.Fatalf("new request: %v, %d calls", err, calls.Load())
	}
}

// The read filter (blocked brute-force sources) applies to requests
// answered statelessly over TCP too, which never pass sipgo's read loop.
func TestStatelessTCPHonoursReadFilter(t *testing.T) {
	var block atomic.Bool
	var refused atomic.Int32
	s := mustServe(t, func(string) bool {
		if block.Load() {
			refused.Add(1)
			return false
		}
		return true
	})
	var calls atomic.Int32
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		calls.Add(1)
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	block.Store(true)
	c.Write([]byte(sipText("REGISTER", "blocked-tcp", "", c.LocalAddr().String(), "TCP")))
	for deadline := time.Now().Add(10 * time.Second); refused.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the read filter never saw the blocked REGISTER")
		}
	}
	block.Store(false)
	c.Write([]byte(sipText("REGISTER", "allowed-tcp", "", c.LocalAddr().String(), "TCP")))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rd := bufio.NewReader(c)
	var callIDs []string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "Call-ID:") {
			callIDs = append(callIDs, strings.TrimSpace(strings.TrimPrefix(line, "Call-ID:")))
			break
		}
	}
	if calls.Load() != 1 || callIDs[0] != "allowed-tcp" {
		t.Fatalf("%d handled, first answer for %v", calls.Load(), callIDs)
	}
}

// Remembered responses go after two rounds without traffic.
func TestAnsweredExpireWithoutTraffic(t *testing.T) {
	var a answered
	t0 := time.Now()
	a.begin("k", t0)
	a.done("k", []byte("SIP/2.0 200 OK\r\n\r\n"))
	a.expire(t0.Add(answeredFor))
	if res, seen := a.begin("k", t0.Add(answeredFor)); !seen || res == nil {
		t.Fatal("forgotten after one round")
	}
	a.expire(t0.Add(2 * answeredFor))
	a.expire(t0.Add(3 * answeredFor))
	a.mu.Lock()
	n := len(a.cur) + len(a.prev)
	a.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d remembered after two rounds without traffic", n)
	}
}
