package presence

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest/sipstack"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

const testRealm = "pbx.test"

// fakeClock is the shared test clock.
type fakeClock = siptest.Clock

func quietLogger() *slog.Logger { return siptest.QuietLogger() }

// harness is a real signaling server with registrar digest auth and
// presence on loopback.
type harness struct {
	store *siptest.MemStore
	clock *fakeClock
	bus   *events.Bus
	srv   *signaling.Server
	pres  *Presence
}

// mustStart starts everything; auth=false skips digest (Auth nil).
func mustStart(tb testing.TB, auth bool) *harness {
	tb.Helper()
	return mustStartWith(tb, auth, nil)
}

// mustStartWith is mustStart with the options adjusted by tweak.
func mustStartWith(tb testing.TB, auth bool, tweak func(*Options)) *harness {
	tb.Helper()
	ctx := context.Background()
	h := &harness{store: siptest.NewMemStore(), clock: siptest.NewClock(time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)), bus: events.New()}
	for _, d := range []string{"HD00001", "HD00002", "HD00003"} {
		if err := h.store.CreateDevice(ctx, &hotdesk.Device{ID: d, SIPPassword: "pw-" + d, Mode: hotdesk.ModeHotdesk}); err != nil {
			tb.Fatal(err)
		}
	}
	for _, u := range []string{"201", "202"} {
		if err := h.store.CreateUser(ctx, &hotdesk.User{Extension: u, Name: "User " + u, Hotdesk: true}); err != nil {
			tb.Fatal(err)
		}
	}
	reg, srv := sipstack.Start(tb, registrar.Options{Store: h.store, Realm: testRealm, Now: h.clock.Now, Logger: quietLogger(), Algorithms: []string{"MD5"}},
		signaling.Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Logger: quietLogger()})
	h.srv = srv
	o := Options{Store: h.store, Bus: h.bus, SIP: h.srv, Logger: quietLogger(), Now: h.clock.Now}
	if auth {
		o.Auth = reg.Authenticate
	}
	if tweak != nil {
		tweak(&o)
	}
	var err error
	if h.pres, err = New(o); err != nil {
		tb.Fatal(err)
	}
	h.pres.Register(h.srv)
	testrun.Background(tb, h.srv.Serve, reg.Run, h.pres.Run)
	return h
}

// call publishes a call event for ext.
func (h *harness) call(kind, ext, device, callID string) {
	h.bus.Publish(events.Event{Kind: kind, Extension: ext, Device: device, CallID: callID, Direction: "recipient", Peer: "201"})
}

// watcher is a raw UDP SIP peer that subscribes and answers NOTIFYs.
type watcher struct {
	tb     testing.TB
	conn   *net.UDPConn
	callID string
	tag    string
	toTag  string
	cseq   int
	answer int // status answered to NOTIFYs (default 200)
}

var seq atomic.Int64

func (h *harness) mustWatcher(tb testing.TB) *watcher {
	tb.Helper()
	c, err := net.DialUDP("udp", nil, h.srv.UDPAddr())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	n := seq.Add(1)
	return &watcher{tb: tb, conn: c, callID: fmt.Sprintf("blf-%d@test", n), tag: fmt.Sprintf("wt%d", n), answer: 200}
}

// subscribe sends SUBSCRIBE for ext with extra header lines and returns the
// response.
func (w *watcher) subscribe(ext, extra string) *sip.Response {
	w.tb.Helper()
	w.cseq++
	to := fmt.Sprintf("<sip:%s@%s>", ext, testRealm)
	if w.toTag != "" {
		to += ";tag=" + w.toTag
	}
	local := w.conn.LocalAddr().String()
	raw := fmt.Sprintf("SUBSCRIBE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d;rport\r\n"+
		"From: <sip:HD00003@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d SUBSCRIBE\r\n"+
		"Contact: <sip:HD00003@%s>\r\nMax-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n",
		ext, testRealm, local, seq.Add(1), testRealm, w.tag, to, w.callID, w.cseq, local, extra)
	if _, err := w.conn.Write([]byte(raw)); err != nil {
		w.tb.Fatal(err)
	}
	for {
		m := w.read(2 * time.Second)
		if m == nil {
			w.tb.Fatal("no response to SUBSCRIBE")
		}
		if res, ok := m.(*sip.Response); ok {
			if tag, ok := res.To().Params.Get("tag"); ok && res.StatusCode < 300 {
				w.toTag = tag
			}
			return res
		}
		w.reply(m.(*sip.Request)) // a NOTIFY overtook the response
	}
}

func (w *watcher) read(wait time.Duration) sip.Message {
	w.tb.Helper()
	buf := make([]byte, 65535)
	w.conn.SetReadDeadline(time.Now().Add(wait))
	n, err := w.conn.Read(buf)
	if err != nil {
		return nil
	}
	m, err := sip.NewParser().ParseSIP(buf[:n])
	if err != nil {
		w.tb.Fatalf("parse: %v\n%s", err, buf[:n])
	}
	return m
}

// notify waits for the next NOTIFY, answers it and returns it.
func (w *watcher) notify() *sip.Request {
	w.tb.Helper()
	for {
		m := w.read(2 * time.Second)
		if m == nil {
			w.tb.Fatal("no NOTIFY")
		}
		if req, ok := m.(*sip.Request); ok && req.Method == sip.NOTIFY {
			w.reply(req)
			return req
		}
	}
}

func (w *watcher) reply(req *sip.Request) {
	res := sip.NewResponseFromRequest(req, w.answer, "Whatever", nil)
	if _, err := w.conn.Write([]byte(res.String())); err != nil {
		w.tb.Fatal(err)
	}
}

// quiet asserts no NOTIFY arrives within d.
func (w *watcher) quiet(d time.Duration) {
	w.tb.Helper()
	if m := w.read(d); m != nil {
		w.tb.Fatalf("unexpected message:\n%s", m)
	}
}

func header(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func bodyState(tb testing.TB, req *sip.Request) (version int, states []string) {
	tb.Helper()
	doc := mustParseDialogInfo(tb, req.Body())
	for _, d := range doc.Dialogs {
		states = append(states, strings.TrimSpace(d.State))
	}
	return doc.Version, states
}
