package b2bua_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/presence"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/settings"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest/sipstack"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

const realm = "pbx.test"

// maxCall is the harness's maximum call duration (TestMaxCallDuration).
const maxCall = 20 * time.Second

// TestMain silences sipgo's fallback logger.
func TestMain(m *testing.M) {
	if os.Getenv("HOTDESK_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	os.Exit(m.Run())
}

func testLogger() *slog.Logger {
	if os.Getenv("HOTDESK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// pbx is the SIP side composed from the real pieces on loopback: SQLite
// store, signaling, registrar, desk, presence (BLF) and the B2BUA.
type pbx struct {
	store hotdesk.Store
	bus   *events.Bus
	sip   *signaling.Server
	reg   *registrar.Registrar
	desk  *desk.Service
	b2b   *b2bua.B2BUA // set before serving; replaced only through setB2B
	b2bMu sync.Mutex   // the read loops' and handlers' view of b2b (setB2B)
	pres  *presence.Presence
	set   *settings.Cache // as internal/app's: dropped by settings_changed

	mu  sync.Mutex
	got []events.Event
}

// mustPBX starts the composition; it stops when the test ends.
func mustPBX(tb testing.TB) *pbx {
	tb.Helper()
	return mustPBXWith(tb, media.NewPortPool(0, 0))
}

// mustPBXWith is mustPBX with the announcements' RTP port pool.
func mustPBXWith(tb testing.TB, ports *media.PortPool) *pbx {
	tb.Helper()
	log := testLogger()
	db := sqlitetest.MustOpen(tb)
	p := &pbx{store: db, bus: events.New(), set: settings.New(db, 0, nil)}
	p.desk = desk.New(desk.Options{Store: db, Bus: p.bus, Logger: log, InCall: func(d string) bool { return p.b2b.InCall(d) }})
	p.reg, p.sip = sipstack.Start(tb, registrar.Options{Store: db, Bus: p.bus, Realm: realm, Logger: log, Node: "n1", Algorithms: []string{"MD5"}},
		signaling.Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Logger: log})
	set, err := prompts.New("en", "")
	if err != nil {
		tb.Fatal(err)
	}
	p.b2b, err = b2bua.New(b2bua.Options{Store: db, Desk: p.desk, Bus: p.bus, SIP: p.sip, Contacts: p.reg.Contacts,
		Settings: p.set.Get, SettingsGen: p.set.Gen,
		Prompts: func(string) (*prompts.Set, error) { return set, nil },
		Ports:   ports, MediaIP: "127.0.0.1", Domain: realm, Logger: log,
		RegisterRetry: 200 * time.Millisecond, MaxCallDuration: maxCall})
	if err != nil {
		tb.Fatal(err)
	}
	p.sip.Handle(sip.INVITE, p.onInvite)
	// As internal/app: a phone's INVITE without credentials is challenged statelessly.
	p.sip.HandleStatelessIf(sip.INVITE, func(req *sip.Request) bool {
		return len(signaling.Headers(req, "Proxy-Authorization")) == 0 && p.serving().NotFromTrunk(req)
	}, func(req *sip.Request, tx sip.ServerTransaction) { p.reg.Authenticate(req, tx) })
	if p.pres, err = presence.New(presence.Options{Store: db, Bus: p.bus, SIP: p.sip, Auth: p.reg.Authenticate, Logger: log, Domain: realm}); err != nil {
		tb.Fatal(err)
	}
	p.pres.Register(p.sip)
	evs, unsub := p.bus.Subscribe(4096)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for e := range evs {
			p.mu.Lock()
			p.got = append(p.got, e)
			p.mu.Unlock()
		}
	}()
	tb.Cleanup(func() { unsub(); <-collected }) // after the components stopped
	testrun.Background(tb, p.sip.Serve, p.reg.Run, p.b2b.Run, p.pres.Run,
		func(ctx context.Context) error { return p.set.Run(ctx, p.bus) })
	testrun.Eventually(tb, 5*time.Second, "the settings cache follows the bus", func() bool { _, ok := p.set.Gen(); return ok })
	return p
}

// onInvite is what internal/app does: trunk first, then authenticate and
// hand over (feature codes are not part of these tests).
func (p *pbx) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	b := p.serving()
	if b.FromTrunk(req) {
		b.HandleTrunkInvite(req, tx)
		return
	}
	dev, ok := p.reg.Authenticate(req, tx)
	if !ok {
		return
	}
	b.HandleInvite(req, tx, dev)
}

func (p *pbx) addr() string { return p.sip.UDPAddr().String() }

// mustUser creates a hot-desk user allowed national calls.
func (p *pbx) mustUser(tb testing.TB, u hotdesk.User) {
	tb.Helper()
	if u.Name == "" {
		u.Name = "User " + u.Extension
	}
	if u.Outbound == "" {
		u.Outbound = hotdesk.OutboundNational
	}
	u.Hotdesk = true
	if err := p.store.CreateUser(context.Background(), &u); err != nil {
		tb.Fatal(err)
	}
}

// mustDevice creates a device (personal when owner is set) and returns a
// registered test phone for it.
func (p *pbx) mustDevice(tb testing.TB, d hotdesk.Device) *siptest.Phone {
	tb.Helper()
	d.Mode = hotdesk.ModeHotdesk
	if d.Owner != "" {
		d.Mode = hotdesk.ModePersonal
	}
	d.SIPPassword = "pw-" + d.ID
	d.Model = hotdesk.ModelGeneric
	if err := p.store.CreateDevice(context.Background(), &d); err != nil {
		tb.Fatal(err)
	}
	return p.phone(tb, d.ID)
}

// updateSettings applies change to the stored settings and, as the admin
// service does, publishes settings_changed; it returns once the settings
// cache has taken it.
func (p *pbx) updateSettings(tb testing.TB, change func(st *hotdesk.Settings)) {
	tb.Helper()
	ctx := context.Background()
	st, err := p.store.GetSettings(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	change(&st)
	if err := p.store.PutSettings(ctx, st); err != nil {
		tb.Fatal(err)
	}
	gen, _ := p.set.Gen()
	p.bus.Publish(events.Event{Kind: hotdesk.KindSettings})
	// Polled closely: a test may go on the moment the cache has it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Microsecond) {
		if g, _ := p.set.Gen(); g != gen {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatal("the settings cache did not take the change within 5 s")
		}
	}
}

// phone is another registered test phone of an existing device.
func (p *pbx) phone(tb testing.TB, id string) *siptest.Phone {
	tb.Helper()
	ph := siptest.New(tb, siptest.Options{Server: p.addr(), User: id, Password: "pw-" + id, Domain: realm})
	ph.MustRegister(tb)
	return ph
}

// login logs ext in on device as an admin would.
func (p *pbx) login(tb testing.TB, ext, device string) {
	tb.Helper()
	if _, err := p.desk.Login(context.Background(), desk.LoginRequest{Extension: ext, Device: device, Via: hotdesk.ViaAdmin, Source: "test"}); err != nil {
		tb.Fatalf("login %s on %s: %v", ext, device, err)
	}
}

// calls returns the user's call records, newest first.
func (p *pbx) calls(tb testing.TB, ext string) []*hotdesk.CallRecord {
	tb.Helper()
	cs, err := p.store.FindCalls(context.Background(), ext, 10)
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

// waitRecord waits until the user's newest call record has ended.
func (p *pbx) waitRecord(tb testing.TB, ext string) *hotdesk.CallRecord {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if cs := p.calls(tb, ext); len(cs) > 0 && cs[0].End != nil {
			return cs[0]
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no ended call record for %s", ext)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantResult waits for ext's ended call record and checks its result.
func (p *pbx) wantResult(tb testing.TB, ext, result string) {
	tb.Helper()
	if rec := p.waitRecord(tb, ext); rec.Result != result {
		tb.Errorf("%s's record %+v, want %s", ext, rec, result)
	}
}

// hangUp hangs c up and waits until the PBX has no call and no dialog.
func (p *pbx) hangUp(tb testing.TB, c *siptest.Call) {
	tb.Helper()
	if err := c.Hangup(); err != nil {
		tb.Fatal(err)
	}
	p.waitIdle(tb, 3*time.Second)
}

// waitIdle waits until no call is up and no dialog is routed.
func (p *pbx) waitIdle(tb testing.TB, within time.Duration) {
	tb.Helper()
	testrun.Eventually(tb, within, "no call up and no dialog routed", func() bool { return p.b2b.Active() == 0 && p.sip.Dialogs() == 0 })
}

// callEvents returns the call_* kinds published for ext, in order.
func (p *pbx) callEvents(ext string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.got {
		if e.Extension == ext && strings.HasPrefix(e.Kind, "call_") {
			out = append(out, e.Kind+"/"+e.Direction)
		}
	}
	return out
}

// header returns the value of a header of req, "" if absent.
func header(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// serving is the B2BUA the handlers and read loops use.
func (p *pbx) serving() *b2bua.B2BUA {
	p.b2bMu.Lock()
	defer p.b2bMu.Unlock()
	return p.b2b
}

// setB2B replaces the B2BUA while the PBX serves (no call up): under
// b2bMu, so the read loops see it whole.
func (p *pbx) setB2B(b *b2bua.B2BUA) {
	p.b2bMu.Lock()
	p.b2b = b
	p.b2bMu.Unlock()
}
