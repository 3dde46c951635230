package signaling

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// BenchmarkUDPOptionsRoundTrip is one OPTIONS over UDP answered 200 in a
// server transaction, through the whole server (read filter, transaction,
// route, handler, response written); cpu-ns/op is the process's CPU per
// request (the client's part included, the same in any build).
func BenchmarkUDPOptionsRoundTrip(b *testing.B) {
	s := mustServe(b, nil)
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	buf := make([]byte, 65535)
	b.ReportAllocs()
	cpu0 := processCPU()
	i := 0
	for b.Loop() {
		i++
		c.Write([]byte(sipText("OPTIONS", "rt"+strconv.Itoa(i), "", local, "UDP")))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200 ") {
			b.Fatalf("OPTIONS %d: %q %v", i, buf[:n], err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkUDPClientTxRoundTrip is one OPTIONS the server sends over UDP
// and the 200 it reads back for its client transaction.
func BenchmarkUDPClientTxRoundTrip(b *testing.B) {
	s := mustServe(b, nil)
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer peer.Close()
	go func() { // answers every request 200
		buf := make([]byte, 65535)
		p := sip.NewParser()
		for {
			n, from, err := peer.ReadFrom(buf)
			if err != nil {
				return
			}
			m, err := p.ParseSIP(buf[:n])
			if err != nil {
				continue
			}
			peer.WriteTo([]byte(sip.NewResponseFromRequest(m.(*sip.Request), 200, "OK", nil).String()), from)
		}
	}()
	uri := sip.Uri{Scheme: "sip", User: "phone", Host: "127.0.0.1", Port: peer.LocalAddr().(*net.UDPAddr).Port}
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		req := s.NewRequest(Out{Method: sip.OPTIONS, URI: uri, Dest: peer.LocalAddr().String()})
		tx, err := s.Client.TransactionRequest(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		select {
		case r := <-tx.Responses():
			if r.StatusCode != 200 {
				b.Fatal(r.StatusCode)
			}
		case <-time.After(5 * time.Second):
			b.Fatal("no response")
		}
		tx.Terminate()
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkTCPOptionsRoundTrip is BenchmarkUDPOptionsRoundTrip over one
// TCP connection: guardConn's framing and check, the server transaction,
// route, the handler, the response written on the connection.
func BenchmarkTCPOptionsRoundTrip(b *testing.B) {
	var parses atomic.Int64
	s := mustServeCounting(b, &parses)
	s.Handle(sip.OPTIONS, func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	local := c.LocalAddr().String()
	b.ReportAllocs()
	cpu0, p0 := processCPU(), parses.Load()
	i := 0
	for b.Loop() {
		i++
		c.Write([]byte(sipText("OPTIONS", "trt"+strconv.Itoa(i), "", local, "TCP")))
		if res := readTCPMessage(b, c, r); !strings.HasPrefix(res, "SIP/2.0 200 ") {
			b.Fatalf("OPTIONS %d: %q", i, res)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(parses.Load()-p0)/float64(b.N), "parses/op")
}
