package feature_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/checksync"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/feature"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest/sipstack"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

const realm = "pbx.test"

// TestMain silences sipgo's fallback logger (it logs through slog.Default
// in a few places no option reaches).
func TestMain(m *testing.M) {
	if os.Getenv("HOTDESK_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	os.Exit(m.Run())
}

// pbx is the SIP side of hot desking composed from the real pieces on
// loopback: store, signaling, registrar, desk, media, feature, checksync.
type pbx struct {
	store   *siptest.MemStore
	mem     *siptest.MemStore
	bus     *events.Bus
	sip     *signaling.Server
	reg     *registrar.Registrar
	desk    *desk.Service
	feature *feature.Service
	notify  *checksync.Notifier
	prompts *prompts.Set
}

func testLogger() *slog.Logger {
	if os.Getenv("HOTDESK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// mustPBX starts the composition; it stops when the test ends.
func mustPBX(tb testing.TB) *pbx {
	tb.Helper()
	ctx := context.Background()
	log := testLogger()
	mem := siptest.NewMemStore()
	p := &pbx{store: mem, mem: mem, bus: events.New()}
	// Short digit timeouts keep the timeout tests short.
	st := hotdesk.DefaultSettings()
	st.Prompts = hotdesk.PromptSettings{FirstDigitSeconds: 3, InterDigitSeconds: 2}
	if err := mem.PutSettings(ctx, st); err != nil {
		tb.Fatal(err)
	}
	p.desk = desk.New(desk.Options{Store: p.store, Bus: p.bus, Logger: log})
	p.reg, p.sip = sipstack.Start(tb, registrar.Options{Store: p.store, Bus: p.bus, Realm: realm, Logger: log, Node: "n1", Algorithms: []string{"MD5"}},
		signaling.Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Logger: log})
	var err error
	if p.prompts, err = prompts.New("en", ""); err != nil {
		tb.Fatal(err)
	}
	p.feature, err = feature.New(feature.Options{Desk: p.desk, Store: p.store,
		Prompts: func(string) (*prompts.Set, error) { return p.prompts, nil },
		Ports:   media.NewPortPool(0, 0), MediaIP: "127.0.0.1", SIP: p.sip, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	p.sip.Handle(sip.INVITE, p.onInvite)
	p.notify = checksync.New(checksync.Options{Bus: p.bus, SIP: p.sip, Contacts: p.reg.Contacts, Store: p.store, Logger: log})
	testrun.Background(tb, p.sip.Serve, p.reg.Run, p.notify.Run)
	return p
}

// onInvite is what internal/app does: authenticate, parse, hand over.
func (p *pbx) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	dev, ok := p.reg.Authenticate(req, tx)
	if !ok {
		return
	}
	st, _ := p.store.GetSettings(context.Background())
	if code, ok := feature.Parse(req.Recipient.User, st.FeatureCodes); ok {
		p.feature.HandleInvite(req, tx, dev, code)
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotFound, "Not Found", nil))
}

func (p *pbx) addr() string { return p.sip.UDPAddr().String() }

// mustUser creates a hot-desk user with a PIN.
func (p *pbx) mustUser(tb testing.TB, ext, pin string, hot bool) {
	tb.Helper()
	hash, err := desk.HashPIN(pin)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.mem.CreateUser(context.Background(), &hotdesk.User{Extension: ext, Name: "User " + ext, Hotdesk: hot, PINHash: hash}); err != nil {
		tb.Fatal(err)
	}
}

// mustPhone creates a device and a registered test phone for it.
func (p *pbx) mustPhone(tb testing.TB, id, mode string) *siptest.Phone {
	tb.Helper()
	d := &hotdesk.Device{ID: id, Mode: mode, SIPPassword: "pw-" + id, Model: hotdesk.ModelGeneric}
	if mode == hotdesk.ModePersonal {
		d.Owner = "201"
	}
	if err := p.mem.CreateDevice(context.Background(), d); err != nil {
		tb.Fatal(err)
	}
	ph := siptest.New(tb, siptest.Options{Server: p.addr(), User: id, Password: d.SIPPassword, Domain: realm})
	ph.MustRegister(tb)
	return ph
}

// loginAt returns who is logged in on device ("" for nobody).
func (p *pbx) loginAt(tb testing.TB, device string) string {
	tb.Helper()
	l, err := p.store.LoginByDevice(context.Background(), device)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return ""
	} else if err != nil {
		tb.Fatal(err)
	}
	return l.Extension
}

// promptLen is how long the named prompts play.
func (p *pbx) promptLen(names ...string) time.Duration {
	return time.Duration(len(p.prompts.Say(names...))) * time.Second / 8000
}

// waitIdle waits until no feature call is active and no dialog is routed.
func (p *pbx) waitIdle(tb testing.TB, within time.Duration) {
	tb.Helper()
	testrun.Eventually(tb, within, "no feature call active and no dialog routed", func() bool { return p.feature.Active() == 0 && p.sip.Dialogs() == 0 })
}

// deskPBX is a PBX with user 201 (PIN 1234, hot desking) and a registered
// hot desk phone HD00001, the start of most login tests.
func deskPBX(t *testing.T) (*pbx, *siptest.Phone) {
	t.Helper()
	p := mustPBX(t)
	p.mustUser(t, "201", "1234", true)
	return p, p.mustPhone(t, "HD00001", hotdesk.ModeHotdesk)
}

// mustDial dials code from ph; the PBX must answer.
func mustDial(tb testing.TB, ph *siptest.Phone, code string) *siptest.Call {
	tb.Helper()
	c, err := ph.Dial(code)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Silences that end a recording: after a prompt that waits for digits,
// and after the last announcement of a call (whose parts play back to
// back, so it allows for a longer pause).
const (
	toPrompt = 300 * time.Millisecond
	toEnd    = 500 * time.Millisecond
)

// loggedIn201 is the announcement of a login as 201.
var loggedIn201 = []string{"logged_in_as", "digit_2", "digit_0", "digit_1"}

// hear records c until quiet and checks it is the named prompts.
func (p *pbx) hear(t *testing.T, c *siptest.Call, quiet time.Duration, names ...string) {
	t.Helper()
	checkPrompt(t, p, c.Record(quiet, 10*time.Second), names...)
}

// mustBye waits for the PBX to hang up c.
func mustBye(tb testing.TB, c *siptest.Call) {
	tb.Helper()
	if err := c.WaitBye(3 * time.Second); err != nil {
		tb.Fatal(err)
	}
}

// wantLogin checks who is logged in on device ("" for nobody).
func (p *pbx) wantLogin(tb testing.TB, device, want string) {
	tb.Helper()
	if got := p.loginAt(tb, device); got != want {
		tb.Errorf("%s: %q logged in, want %q", device, got, want)
	}
}
