package signaling

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Garbage is logged once per source per interval, never with its payload,
// and counted (5 s of garbage used to write 174 MB of ERROR lines).
func TestBadInputLoggedOncePerSourceWithoutPayload(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	s := mustServeLog(t, &lockedWriter{w: &logs, mu: &mu})
	const secret = "PAYLOAD-MUST-NOT-BE-LOGGED"
	for _, transport := range []string{"udp", "tcp"} {
		c, err := net.Dial(transport, s.UDPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300; i++ {
			if transport == "tcp" {
				// One bad but framable message after another.
				c.Write([]byte("BOGUS " + secret + "\r\nContent-Length: 0\r\n\r\n"))
			} else {
				c.Write([]byte("garbage " + secret + " \x00\x01"))
			}
		}
		c.Close()
	}
	mustAlive(t, s)
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Contains(out, secret) {
		t.Errorf("payload logged:\n%s", out)
	}
	if n := strings.Count(out, "bad input"); n != 1 {
		t.Errorf("bad input logged %d times from one source, want once:\n%s", n, out)
	}
	udp := counterValue(t, s.guard.bad.WithLabelValues("UDP", kindUnparseable))
	tcp := counterValue(t, s.guard.bad.WithLabelValues("TCP", kindUnparseable))
	if udp < 250 || tcp != 300 { // UDP may drop some under load
		t.Errorf("counted udp %v tcp %v, want ~300 each", udp, tcp)
	}
}

// sipgo's own warnings and errors pass through quietHandler: payloads
// dropped, each message at most once per interval.
func TestQuietHandlerFoldsRepeats(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newQuietHandler(slog.NewTextHandler(&buf, nil)))
	for i := 0; i < 100; i++ {
		log.Error("failed to parse", "data", "PAYLOAD", "error", "x")
		log.Debug("debug passes", "data", "d")
	}
	out := buf.String()
	if strings.Count(out, "failed to parse") != 1 || strings.Contains(out, "PAYLOAD") {
		t.Fatalf("not folded:\n%s", out)
	}
	if strings.Count(out, "debug passes") != 0 { // below the text handler's level
		t.Fatalf("debug shown:\n%s", out)
	}
}

// Responses matching no transaction (sipgo logged each at INFO) are
// counted and logged once per source per interval.
func TestStrayResponsesCountedNotLoggedEach(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	s := mustServeLog(t, &lockedWriter{w: &logs, mu: &mu})
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 50; i++ {
		fmt.Fprintf(c, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-stray%d\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: stray%d\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", i, i)
	}
	mustAlive(t, s)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if n := strings.Count(out, "bad input"); n != 1 {
		t.Errorf("stray responses logged %d times, want once:\n%s", n, out)
	}
	if got := counterValue(t, s.guard.bad.WithLabelValues("UDP", kindStray)); got < 40 {
		t.Errorf("stray responses counted %v, want ~50", got)
	}
}

// One source gets at most badInputAnswers error responses per interval:
// answering spoofed garbage must not make the PBX a reflector.
func TestBadInputAnswersCappedPerSource(t *testing.T) {
	s := mustServe(t, nil)
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	answers := make(chan int)
	go func() {
		n := 0
		buf := make([]byte, 4096)
		for {
			c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c.Read(buf); err != nil {
				answers <- n
				return
			}
			n++
		}
	}()
	for i := 0; i < badInputAnswers+100; i++ {
		c.Write([]byte(without("OPTIONS", "To")(c.LocalAddr().String())))
		if i%50 == 0 {
			time.Sleep(10 * time.Millisecond) // stay within the socket buffers
		}
	}
	if n := <-answers; n < badInputAnswers*9/10 || n > badInputAnswers {
		t.Fatalf("%d answers to %d bad requests, want at most %d (and most of them)", n, badInputAnswers+100, badInputAnswers)
	}
}
