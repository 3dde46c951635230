package mwi_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/mwi"
	"github.com/hotdesk-pbx/hotdesk/internal/presence"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest/sipstack"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

const testDomain = "pbx.test"

// counts is a mailbox of fixed counts per extension (the voicemail store's
// VoicemailCounts).
type counts struct {
	mu    sync.Mutex
	m     map[string][2]int
	reads int // VoicemailCounts calls
}

func (c *counts) set(ext string, n, o int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[ext] = [2]int{n, o}
}

func (c *counts) VoicemailCounts(_ context.Context, ext string) (int, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	v := c.m[ext]
	return v[0], v[1], nil
}

// harness is a signaling server with the registrar's digest auth, presence
// (which hands message-summary SUBSCRIBEs over) and the MWI notifier.
type harness struct {
	store  *siptest.MemStore
	counts *counts
	bus    *events.Bus
	srv    *signaling.Server
	reg    *registrar.Registrar
	mwi    *mwi.Notifier
}

// mustStart starts it all; contacts, when not nil, replaces the registrar's
// table (a sipp UAS that never registers).
func mustStart(tb testing.TB, contacts func(string) []hotdesk.Binding) *harness {
	tb.Helper()
	ctx := context.Background()
	h := &harness{store: siptest.NewMemStore(), counts: &counts{m: map[string][2]int{}}, bus: events.New()}
	for _, d := range []string{"HD00001", "HD00002"} {
		if err := h.store.CreateDevice(ctx, &hotdesk.Device{ID: d, SIPPassword: "pw-" + d, Mode: hotdesk.ModeHotdesk}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := h.store.CreateDevice(ctx, &hotdesk.Device{ID: "soft205", SIPPassword: "pw-soft205", Mode: hotdesk.ModePersonal, Owner: "205"}); err != nil {
		tb.Fatal(err)
	}
	for _, u := range []string{"201", "202", "205"} {
		if err := h.store.CreateUser(ctx, &hotdesk.User{Extension: u, Name: "User " + u, Hotdesk: true, Voicemail: true}); err != nil {
			tb.Fatal(err)
		}
	}
	h.reg, h.srv = sipstack.Start(tb, registrar.Options{Store: h.store, Bus: h.bus, Realm: testDomain, Logger: siptest.QuietLogger(), Algorithms: []string{"MD5"}},
		signaling.Options{UDPAddr: "127.0.0.1:0", Hostname: "127.0.0.1", Domain: testDomain, Logger: siptest.QuietLogger()})
	var err error
	if contacts == nil {
		contacts = h.reg.Contacts
	}
	h.mwi, err = mwi.New(mwi.Options{Store: litMem{h.store, h.counts}, Counts: h.counts, Bus: h.bus, SIP: h.srv, Contacts: contacts,
		Auth: h.reg.Authenticate, Logger: siptest.QuietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	pres, err := presence.New(presence.Options{Store: h.store, SIP: h.srv, Auth: h.reg.Authenticate, Logger: siptest.QuietLogger(),
		Packages: map[string]func(*sip.Request, sip.ServerTransaction){mwi.Event: h.mwi.HandleSubscribe}})
	if err != nil {
		tb.Fatal(err)
	}
	pres.Register(h.srv)
	testrun.Background(tb, h.srv.Serve, h.reg.Run, pres.Run, h.mwi.Run)
	return h
}

// phone starts a registered Go test phone for device.
func (h *harness) phone(tb testing.TB, device string) *siptest.Phone {
	tb.Helper()
	p := siptest.New(tb, siptest.Options{Server: h.srv.UDPAddr().String(), User: device, Password: "pw-" + device, Domain: testDomain})
	p.MustRegister(tb)
	return p
}

// login logs ext in at device in the store, ending their other login and
// the device's, and publishes the events the desk rules would.
func (h *harness) login(tb testing.TB, ext, device string) {
	tb.Helper()
	var evs []events.Event
	err := h.store.InTx(context.Background(), func(tx hotdesk.Tx) error {
		if l, err := tx.LoginByUser(context.Background(), ext); err == nil {
			if err := tx.DeleteLogin(context.Background(), l.Device); err != nil {
				return err
			}
			evs = append(evs, events.Event{Kind: hotdesk.KindLogout, Extension: ext, Device: l.Device, Reason: "roamed"})
		}
		if l, err := tx.LoginByDevice(context.Background(), device); err == nil {
			if err := tx.DeleteLogin(context.Background(), device); err != nil {
				return err
			}
			evs = append(evs, events.Event{Kind: hotdesk.KindLogout, Extension: l.Extension, Device: device, Reason: "replaced"})
		}
		evs = append(evs, events.Event{Kind: hotdesk.KindLogin, Extension: ext, Device: device, Reason: "user"})
		return tx.CreateLogin(context.Background(), &hotdesk.Login{Extension: ext, Device: device, Since: time.Now(), Via: "phone"})
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range evs {
		h.bus.Publish(e)
	}
}

// logout ends the login at device and publishes it.
func (h *harness) logout(tb testing.TB, device string) {
	tb.Helper()
	l, err := h.store.LoginByDevice(context.Background(), device)
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.store.InTx(context.Background(), func(tx hotdesk.Tx) error { return tx.DeleteLogin(context.Background(), device) }); err != nil {
		tb.Fatal(err)
	}
	h.bus.Publish(events.Event{Kind: hotdesk.KindLogout, Extension: l.Extension, Device: device, Reason: "user"})
}

// deposit sets ext's counts and publishes the voicemail event a deposit
// publishes.
func (h *harness) deposit(ext string, n, o int) {
	h.counts.set(ext, n, o)
	h.bus.Publish(events.Event{Kind: hotdesk.KindVoicemail, Extension: ext, Reason: hotdesk.VoicemailNew})
}

// summary is the parsed body of a message-summary NOTIFY.
type summary struct{ waiting, account, voice string }

func parse(tb testing.TB, req *sip.Request) summary {
	tb.Helper()
	if ct := req.GetHeader("Content-Type"); ct == nil || ct.Value() != mwi.ContentType {
		tb.Fatalf("NOTIFY Content-Type:\n%s", req)
	}
	var s summary
	for line := range strings.SplitSeq(string(req.Body()), "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "messages-waiting":
			s.waiting = strings.TrimSpace(v)
		case "message-account":
			s.account = strings.TrimSpace(v)
		case "voice-message":
			s.voice = strings.TrimSpace(v)
		}
	}
	return s
}

// waitSummary waits until p's latest message-summary NOTIFY says want.
func waitSummary(tb testing.TB, p *siptest.Phone, want summary) *sip.Request {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last summary
	for time.Now().Before(deadline) {
		got, _ := p.WaitNotify(1, mwi.Event, 100*time.Millisecond)
		if len(got) > 0 {
			req := got[len(got)-1]
			if last = parse(tb, req); last == want {
				return req
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("%s: last summary %+v, want %+v", p.User(), last, want)
	return nil
}

func (c *counts) readCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// litMem is the harness's store with mwi.LitStore: the phones whose
// mailbox (the user logged in, else a personal phone's owner) has new
// messages in counts.
type litMem struct {
	*siptest.MemStore
	counts *counts
}

func (m litMem) LitDevices(ctx context.Context) ([]string, error) {
	ds, _, err := m.FindDevices(ctx, hotdesk.DeviceFilter{})
	if err != nil {
		return nil, err
	}
	var lit []string
	for _, d := range ds {
		ext := ""
		if l, err := m.LoginByDevice(ctx, d.ID); err == nil {
			ext = l.Extension
		} else if d.Mode == hotdesk.ModePersonal {
			ext = d.Owner
		}
		if n, _, _ := m.counts.VoicemailCounts(ctx, ext); ext != "" && n > 0 {
			lit = append(lit, d.ID)
		}
	}
	return lit, nil
}
