package signaling

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// mustListen starts a server on loopback UDP+TCP for domain pbx.test that
// answers OPTIONS; it stops at test end.
func mustListen(tb testing.TB) *Server { return mustListenOn(tb, "127.0.0.1:0") }

// mustListenOn is mustListen on addr (UDP and TCP).
func mustListenOn(tb testing.TB, addr string) *Server {
	tb.Helper()
	return mustServeOpts(tb, Options{UDPAddr: addr, TCPAddr: addr, Domain: "pbx.test",
		UserAgent: "Hotdesk PBX dev", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// TestNewRequestToHeaders: what the PBX originates is well formed (issue
// 10: sipgo filled From from the user agent name, "Hotdesk PBX dev", a URI
// with spaces, and linphone answered 400).
func TestNewRequestToHeaders(t *testing.T) {
	s := mustListen(t)
	udp, tcp := strconv.Itoa(s.UDPAddr().Port), strconv.Itoa(s.TCPAddr().Port)
	for _, tt := range []struct {
		name      string
		b         hotdesk.Binding
		wantURI   string
		wantTo    string
		wantCt    string
		wantTrans string
	}{
		{"udp", hotdesk.Binding{Device: "HD00001", Contact: "<sip:HD00001@10.0.0.5:5062>;expires=600", Source: "127.0.0.1:40000", Transport: "udp"},
			"sip:HD00001@10.0.0.5:5062", "<sip:HD00001@pbx.test>", "<sip:127.0.0.1:" + udp + ">", "UDP"},
		{"tcp", hotdesk.Binding{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:5070;transport=tcp", Source: "127.0.0.1:5070", Transport: "tcp"},
			"sip:HD00002@127.0.0.1:5070;transport=tcp", "<sip:HD00002@pbx.test>", "<sip:127.0.0.1:" + tcp + ";transport=tcp>", "TCP"},
		{"display name in contact", hotdesk.Binding{Device: "HD00003", Contact: `"Desk 3" <sip:x@127.0.0.1:5999>`, Source: "127.0.0.1:5999", Transport: "udp"},
			"sip:x@127.0.0.1:5999", "<sip:HD00003@pbx.test>", "<sip:127.0.0.1:" + udp + ">", "UDP"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := s.NewRequestTo(sip.NOTIFY, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			// Round trip through the parser: what a phone sees.
			msg, err := sip.ParseMessage([]byte(req.String()))
			if err != nil {
				t.Fatalf("parse %q: %v", req.String(), err)
			}
			got := msg.(*sip.Request)
			from := got.From()
			tag, _ := from.Params.Get("tag")
			if from.Address.String() != "sip:hotdesk@pbx.test" || len(tag) < 8 || strings.ContainsAny(from.Value(), " ") {
				t.Errorf("From %q: want sip:hotdesk@pbx.test with a tag and no spaces", from.Value())
			}
			checks := map[string]string{
				"Request-URI":  got.Recipient.String(),
				"To":           got.To().Value(),
				"Contact":      got.Contact().Value(),
				"CSeq":         got.CSeq().Value(),
				"Max-Forwards": got.MaxForwards().Value(),
				"transport":    req.Transport(),
				"destination":  req.Destination(),
			}
			for name, want := range map[string]string{"Request-URI": tt.wantURI, "To": tt.wantTo, "Contact": tt.wantCt,
				"CSeq": "1 NOTIFY", "Max-Forwards": "70", "transport": tt.wantTrans, "destination": tt.b.Source} {
				if checks[name] != want {
					t.Errorf("%s %q, want %q", name, checks[name], want)
				}
			}
			if id := got.CallID(); id == nil || len(id.Value()) < 16 {
				t.Errorf("Call-ID %v", id)
			}
		})
	}
	if _, err := s.NewRequestTo(sip.NOTIFY, hotdesk.Binding{Contact: "<>"}); err == nil {
		t.Error("empty contact: want an error")
	}
}

func TestNewRequestOverrides(t *testing.T) {
	s := mustListen(t)
	r := s.NewRequest(Out{Method: sip.INVITE, URI: sip.Uri{Scheme: "sip", User: "0201234", Host: "trunk.test"},
		Dest: "127.0.0.2:5060", From: sip.Uri{Scheme: "sip", User: "201", Host: "trunk.test"}, FromName: `Ann "A" \`,
		CallID: "c1", CSeq: 7, MaxForwards: 12, Transport: "tls"})
	for name, tt := range map[string][2]string{
		"From":    {r.From().Address.String() + " " + r.From().DisplayName, "sip:201@trunk.test Ann A "},
		"To":      {r.To().Value(), "<sip:0201234@trunk.test>"},
		"Call-ID": {r.CallID().Value(), "c1"},
		"CSeq":    {r.CSeq().Value(), "7 INVITE"},
		"MF":      {r.MaxForwards().Value(), "12"},
		"Contact": {r.Contact().Value(), "<sip:127.0.0.1:" + strconv.Itoa(s.TCPAddr().Port) + ";transport=tls>"},
		"trans":   {r.Transport(), "TLS"},
	} {
		if tt[0] != tt[1] {
			t.Errorf("%s %q, want %q", name, tt[0], tt[1])
		}
	}
}

// TestUDPRequestsLeaveFromListeningPort: a phone that has sent nothing
// since the PBX started (a restart) gets the NOTIFY, and an ACK, from the
// PBX's listening port, the port its Via names (issue 10: sipgo opened an
// ephemeral socket).
func TestUDPRequestsLeaveFromListeningPort(t *testing.T) {
	// Loopback, and the wildcard the PBX listens on by default (":5060",
	// a dual-stack socket whose address sipgo's pool keys as "[::]:port").
	for _, addr := range []string{"127.0.0.1:0", ":0"} {
		t.Run(addr, func(t *testing.T) { testUDPRequestsLeaveFromListeningPort(t, mustListenOn(t, addr)) })
	}
}

func testUDPRequestsLeaveFromListeningPort(t *testing.T, s *Server) {
	phone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	b := hotdesk.Binding{Device: "HD00001", Contact: "<sip:HD00001@" + phone.LocalAddr().String() + ">",
		Source: phone.LocalAddr().String(), Transport: "udp"}
	req, err := s.NewRequestTo(sip.NOTIFY, b)
	if err != nil {
		t.Fatal(err)
	}
	req.AppendHeader(sip.NewHeader("Event", CheckSync))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		res, err := s.Client.Do(ctx, req)
		if err == nil && res.StatusCode != 200 {
			err = errors.New(res.StartLine())
		}
		done <- err
	}()
	got, src := siptest.ReadRequest(t, phone)
	want := s.UDPAddr().Port
	if src.Port != want || got.Via().Port != want {
		t.Fatalf("NOTIFY from port %d, Via port %d; want both %d", src.Port, got.Via().Port, want)
	}
	res := sip.NewResponseFromRequest(got, 200, "OK", nil)
	if _, err := phone.WriteToUDP([]byte(res.String()), src); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// An ACK (sent outside a transaction) too.
	ack := s.NewRequest(Out{Method: sip.ACK, URI: req.Recipient, Dest: b.Source})
	if err := s.Client.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	if got, src := siptest.ReadRequest(t, phone); !got.IsAck() || src.Port != want {
		t.Fatalf("%s from port %d, want ACK from %d", got.Method, src.Port, want)
	}
}

// TestTCPRequestsReusePhoneConnection: a phone connected over TCP gets the
// PBX's request on its own connection (RFC 5626 flow); with none, the PBX
// connects to the contact.
func TestTCPRequestsReusePhoneConnection(t *testing.T) {
	s := mustListen(t)
	conn, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	local := conn.LocalAddr().String()
	opt := "OPTIONS sip:pbx.test SIP/2.0\r\nVia: SIP/2.0/TCP " + local + ";branch=z9hG4bK-tcp1\r\nFrom: <sip:HD00001@pbx.test>;tag=a\r\n" +
		"To: <sip:pbx.test>\r\nCall-ID: tcp1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(opt)); err != nil {
		t.Fatal(err)
	}
	if m := readTCP(t, conn, rd); firstLine(m) != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS: %s", firstLine(m))
	}
	// A contact nobody listens on: only the existing connection reaches the phone.
	b := hotdesk.Binding{Device: "HD00001", Contact: "<sip:HD00001@127.0.0.1:9;transport=tcp>", Source: local, Transport: "tcp"}
	req, err := s.NewRequestTo(sip.NOTIFY, b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tx, err := s.Client.TransactionRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	m := readTCP(t, conn, rd)
	if r, ok := m.(*sip.Request); !ok || r.Method != sip.NOTIFY {
		t.Fatalf("got %s on the phone's connection", firstLine(m))
	}
}

func readTCP(tb testing.TB, c net.Conn, rd *bufio.Reader) sip.Message {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var head strings.Builder
	length := 0
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			tb.Fatal(err)
		}
		head.WriteString(line)
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		tb.Fatal(err)
	}
	m, err := sip.ParseMessage(append([]byte(head.String()), body...))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func firstLine(m sip.Message) string {
	line, _, _ := strings.Cut(m.String(), "\r\n")
	return line
}

// TestRequestBeforeServe: a request made between Listen and the moment
// Serve's goroutine serves the UDP socket waits for it and still leaves
// from the listening port (it failed to bind the port again, and a full
// test run under load hit this).
func TestRequestBeforeServe(t *testing.T) {
	s, err := New(Options{UDPAddr: "127.0.0.1:0", Domain: "pbx.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	phone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	req, err := s.NewRequestTo(sip.OPTIONS, hotdesk.Binding{Device: "HD1", Contact: "<sip:HD1@" + phone.LocalAddr().String() + ">",
		Source: phone.LocalAddr().String(), Transport: "udp"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := s.Client.Do(ctx, req); done <- err }()
	time.Sleep(100 * time.Millisecond)
	serveCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Serve(serveCtx) }()
	defer func() { stop(); wg.Wait() }()
	got, src := siptest.ReadRequest(t, phone)
	if src.Port != s.UDPAddr().Port {
		t.Fatalf("OPTIONS from port %d, want %d", src.Port, s.UDPAddr().Port)
	}
	phone.WriteToUDP([]byte(sip.NewResponseFromRequest(got, 200, "OK", nil).String()), src)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
