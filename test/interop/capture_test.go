package interop

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// capture records every IPv4 packet on lo, like a small tcpdump inside the
// namespace: SIP messages in full, RTP as header facts. It lets the tests
// judge the PBX's side of the wire without trusting either peer's logs.
type capture struct {
	fd   int
	done chan struct{}
	stop chan struct{}

	mu  sync.Mutex
	sip []sipMsg
	rtp []rtpPkt
}

// sipMsg is one SIP message seen on the wire.
type sipMsg struct {
	At       time.Time
	TCP      bool
	Src, Dst netip.AddrPort
	First    string            // request or status line
	Headers  map[string]string // lower-case name → first value
	Raw      string
}

// rtpPkt is one RTP packet seen on the wire.
type rtpPkt struct {
	At       time.Time
	Src, Dst netip.AddrPort
	PT       uint8
	Voice    bool // payload is not G.711 silence
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// startCapture opens a packet socket on lo. It needs CAP_NET_RAW in the
// namespace, which the test has (root or the user namespace's root).
func startCapture(t *testing.T) *capture {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM, int(htons(syscall.ETH_P_IP)))
	if err != nil {
		t.Fatalf("capture: packet socket: %v", err)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_IP), Ifindex: lo.Index}); err != nil {
		t.Fatalf("capture: bind lo: %v", err)
	}
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<20)
	tv := syscall.NsecToTimeval(int64(200 * time.Millisecond))
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	c := &capture{fd: fd, done: make(chan struct{}), stop: make(chan struct{})}
	go c.read()
	t.Cleanup(func() {
		c.close()
		if t.Failed() {
			t.Logf("---- what went over lo:\n%s", c.summary())
		}
	})
	return c
}

func (c *capture) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	<-c.done
	syscall.Close(c.fd)
}

func (c *capture) read() {
	defer close(c.done)
	buf := make([]byte, 65536)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		n, from, err := syscall.Recvfrom(c.fd, buf, 0)
		if err != nil {
			continue // timeout: look at stop again
		}
		// On lo every packet shows up twice: as sent and as received.
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		c.packet(time.Now(), buf[:n])
	}
}

// packet files one IPv4 packet.
func (c *capture) packet(at time.Time, p []byte) {
	if len(p) < 20 || p[0]>>4 != 4 {
		return
	}
	ihl := int(p[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(p[2:4]))
	if total > len(p) || ihl < 20 || ihl > total {
		return
	}
	src4, dst4 := [4]byte(p[12:16]), [4]byte(p[16:20])
	proto, l4 := p[9], p[ihl:total]
	var sport, dport uint16
	var payload []byte
	switch proto {
	case syscall.IPPROTO_UDP:
		if len(l4) < 8 {
			return
		}
		sport, dport, payload = binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4]), l4[8:]
	case syscall.IPPROTO_TCP:
		if len(l4) < 20 {
			return
		}
		off := int(l4[12]>>4) * 4
		if off < 20 || off > len(l4) {
			return
		}
		sport, dport, payload = binary.BigEndian.Uint16(l4[0:2]), binary.BigEndian.Uint16(l4[2:4]), l4[off:]
	default:
		return
	}
	src := netip.AddrPortFrom(netip.AddrFrom4(src4), sport)
	dst := netip.AddrPortFrom(netip.AddrFrom4(dst4), dport)
	tcp := proto == syscall.IPPROTO_TCP
	if msgs := parseSIP(payload); len(msgs) > 0 {
		c.mu.Lock()
		for _, m := range msgs {
			m.At, m.TCP, m.Src, m.Dst = at, tcp, src, dst
			c.sip = append(c.sip, m)
		}
		c.mu.Unlock()
		return
	}
	// RTP, not RTCP (whose packet types 200-204 read as 72-76 here).
	if tcp || len(payload) < 12 || payload[0]>>6 != 2 {
		return
	}
	if pt := payload[1] & 0x7f; pt < 72 || pt > 76 {
		c.mu.Lock()
		c.rtp = append(c.rtp, rtpPkt{At: at, Src: src, Dst: dst, PT: pt, Voice: voice(pt, payload[12:])})
		c.mu.Unlock()
	}
}

// voice reports whether a G.711 payload carries more than silence: at
// least a tenth of its samples away from the zero codes.
func voice(pt uint8, b []byte) bool {
	if pt != 0 && pt != 8 || len(b) == 0 {
		return false
	}
	loud := 0
	for _, s := range b {
		var mag int
		if pt == 0 {
			mag = int(^s & 0x7f) // μ-law: 0x7f/0xff are zero
		} else {
			mag = int((s ^ 0x55) & 0x7f) // A-law: 0x55/0xd5 are the smallest
		}
		if mag > 16 {
			loud++
		}
	}
	return loud*10 >= len(b)
}

var sipMethods = []string{"INVITE ", "ACK ", "BYE ", "CANCEL ", "REGISTER ", "OPTIONS ", "NOTIFY ",
	"SUBSCRIBE ", "INFO ", "PRACK ", "UPDATE ", "MESSAGE ", "REFER ", "PUBLISH ", "SIP/2.0 "}

// parseSIP splits a UDP datagram or TCP segment into SIP messages (a TCP
// segment may carry several; keep-alive CRLFs carry none).
func parseSIP(p []byte) []sipMsg {
	var out []sipMsg
	for {
		p = bytes.TrimLeft(p, "\r\n")
		start := false
		for _, m := range sipMethods {
			if bytes.HasPrefix(p, []byte(m)) {
				start = true
				break
			}
		}
		if !start {
			return out
		}
		end := bytes.Index(p, []byte("\r\n\r\n"))
		if end < 0 {
			end = len(p)
		}
		lines := strings.Split(string(p[:end]), "\r\n")
		m := sipMsg{First: lines[0], Headers: map[string]string{}}
		for _, l := range lines[1:] {
			name, value, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			name = strings.ToLower(strings.TrimSpace(name))
			if full, ok := compactHeaders[name]; ok {
				name = full
			}
			if _, seen := m.Headers[name]; !seen {
				m.Headers[name] = strings.TrimSpace(value)
			}
		}
		n := end + 4
		if cl, err := strconv.Atoi(m.Headers["content-length"]); err == nil && cl > 0 {
			n += cl
		}
		if n > len(p) {
			n = len(p)
		}
		m.Raw = string(p[:n])
		out = append(out, m)
		p = p[n:]
	}
}

var compactHeaders = map[string]string{"i": "call-id", "f": "from", "t": "to", "m": "contact",
	"v": "via", "l": "content-length", "c": "content-type", "o": "event", "k": "supported"}

// Method is the request method, or the CSeq method for a response.
func (m sipMsg) Method() string {
	if m.IsResponse() {
		_, method, _ := strings.Cut(m.Headers["cseq"], " ")
		return strings.TrimSpace(method)
	}
	method, _, _ := strings.Cut(m.First, " ")
	return method
}

func (m sipMsg) IsResponse() bool { return strings.HasPrefix(m.First, "SIP/2.0 ") }

// Status is a response's status code (0 for requests).
func (m sipMsg) Status() int {
	if !m.IsResponse() {
		return 0
	}
	code, _ := strconv.Atoi(strings.Fields(m.First)[1])
	return code
}

// SIP returns the SIP messages seen so far that match keep.
func (c *capture) SIP(keep func(sipMsg) bool) []sipMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []sipMsg
	for _, m := range c.sip {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// RTP counts the RTP packets seen so far that match keep, and how many of
// them carried voice.
func (c *capture) RTP(keep func(rtpPkt) bool) (all, voiced int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.rtp {
		if keep(p) {
			all++
			if p.Voice {
				voiced++
			}
		}
	}
	return all, voiced
}

// waitSIP polls until keep matches a message or timeout passes.
func (c *capture) waitSIP(timeout time.Duration, keep func(sipMsg) bool) (sipMsg, bool) {
	deadline := time.Now().Add(timeout)
	for {
		if ms := c.SIP(keep); len(ms) > 0 {
			return ms[0], true
		}
		if time.Now().After(deadline) {
			return sipMsg{}, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// summary lists the SIP messages seen (with their SDP media lines) and the
// RTP flows, for the log of a failed run.
func (c *capture) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	if len(c.sip) > 0 {
		t0 := c.sip[0].At
		for _, m := range c.sip {
			tr := "udp"
			if m.TCP {
				tr = "tcp"
			}
			fmt.Fprintf(&b, "%7.3fs %s %s → %s  %s", m.At.Sub(t0).Seconds(), tr, m.Src, m.Dst, m.First)
			if m.IsResponse() {
				fmt.Fprintf(&b, " (%s)", m.Headers["cseq"])
			}
			if ev := m.Headers["event"]; ev != "" {
				fmt.Fprintf(&b, " Event: %s", ev)
			}
			for _, l := range strings.Split(m.Raw, "\r\n") {
				if strings.HasPrefix(l, "m=") || strings.HasPrefix(l, "c=") || strings.HasPrefix(l, "a=rtpmap") || strings.HasPrefix(l, "Signal=") {
					b.WriteString(" | " + l)
				}
			}
			b.WriteString("\n")
		}
	}
	type flow struct{ src, dst netip.AddrPort }
	counts := map[flow][3]int{}
	var order []flow
	for _, p := range c.rtp {
		f := flow{p.Src, p.Dst}
		n, seen := counts[f]
		if !seen {
			order = append(order, f)
		}
		n[0]++
		if p.Voice {
			n[1]++
		}
		if p.PT != 0 && p.PT != 8 {
			n[2]++
		}
		counts[f] = n
	}
	for _, f := range order {
		n := counts[f]
		fmt.Fprintf(&b, "RTP %s → %s: %d packets, %d voiced, %d other payload types\n", f.src, f.dst, n[0], n[1], n[2])
	}
	return b.String()
}
