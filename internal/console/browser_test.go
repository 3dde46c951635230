package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium and returns a chromedp context for one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("headless browser test needs " + chromiumPath + " (Debian package chromium; scripts/test installs it)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser without a timeout
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a deadline so a broken page fails the test
// instead of hanging it.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// submit clicks a submit button and waits for the page that answers.
func submit(t *testing.T, ctx context.Context, what, sel string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor polls a JavaScript predicate.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// outputDir is where screenshots go: $HOTDESK_TEST_OUTPUT/console when
// that is set (e.g. test-output/ at the repo root, which git ignores), else
// a temporary directory.
func outputDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("HOTDESK_TEST_OUTPUT")
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot writes a PNG of the whole page to dir.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func deskState(id string) string {
	return fmt.Sprintf(`(document.querySelector('#desk-%s') || {}).dataset?.state`, id)
}

// TestBrowser drives the console in headless Chromium: sign in, create a user
// and a device through the forms, watch the desk turn occupied and free
// again without a reload, find the audit entry, and see a form error.
func TestBrowser(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	out := outputDir(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		hs.h.ServeHTTP(rec, r)
		t.Logf("%s %s -> %d", r.Method, r.URL, rec.code)
	}))
	defer srv.Close()
	ctx := browser(t)

	step(t, ctx, "open sign-in", chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), "admin"),
		chromedp.SendKeys(chromedp.ID("f-password"), hs.pw))
	screenshot(t, ctx, out, "signin")
	submit(t, ctx, "sign in", `button[type=submit]`)
	waitFor(t, ctx, "desks page after sign-in", `document.querySelector('h1')?.textContent === 'Desks'`)

	step(t, ctx, "user form", chromedp.Navigate(srv.URL+"/users/new"),
		chromedp.SendKeys(chromedp.ID("f-extension"), "201"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Ann Jansen"),
		chromedp.SendKeys(chromedp.ID("f-email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.ID("f-pin"), "4321"))
	submit(t, ctx, "create user", `form[action="/users"] button.primary`)
	waitFor(t, ctx, "user page", `document.body.innerText.includes('Created user 201.')`)
	waitFor(t, ctx, "empty call history", `document.body.innerText.includes('No calls yet.')`)
	start := hs.clock.Now().Add(-2 * time.Hour)
	answer, end := start.Add(4*time.Second), start.Add(184*time.Second)
	for i, peer := range []string{"+31201234567", "0612345678", "202"} {
		cr := &hotdesk.CallRecord{CallID: fmt.Sprintf("c%d@test", i), Extension: "201", Direction: hotdesk.DirectionOutbound,
			Peer: peer, Device: "HD00001", Start: start.Add(time.Duration(i) * 20 * time.Minute), Result: hotdesk.ResultNoAnswer}
		if i != 1 {
			cr.Direction, cr.Answer, cr.End, cr.Result = hotdesk.DirectionInbound, &answer, &end, hotdesk.ResultAnswered
		}
		if err := hs.store.CreateCall(context.Background(), cr); err != nil {
			t.Fatal(err)
		}
	}
	step(t, ctx, "user page with calls", chromedp.Reload())
	waitFor(t, ctx, "call history", `document.querySelectorAll('tr.call').length === 3 && document.querySelector('tr.call').innerText.includes('202')`)
	screenshot(t, ctx, out, "user")

	step(t, ctx, "device form", chromedp.Navigate(srv.URL+"/devices/new"),
		chromedp.SendKeys(chromedp.ID("f-label"), "Desk 3.14"),
		chromedp.SendKeys(chromedp.ID("f-location"), "Amsterdam, floor 3"),
		chromedp.SendKeys(chromedp.ID("f-mac"), "00:04:13:aa:bb:cc"),
		chromedp.SetValue(chromedp.ID("f-model"), "snom"))
	screenshot(t, ctx, out, "device-form")
	submit(t, ctx, "create device", `form[action="/devices"] button.primary`)
	waitFor(t, ctx, "device created", `document.querySelector('#sip-password')?.textContent.length > 10`)
	screenshot(t, ctx, out, "device-created")
	if url := eval[string](t, ctx, `document.querySelector('#provision-url').textContent`); !strings.HasSuffix(url, "/provision/000413aabbcc.xml") {
		t.Fatalf("provisioning URL %q", url)
	}
	for i, label := range []string{"Desk 3.15", "Desk 2.01"} { // a fuller office for the screenshots
		loc := []string{"Amsterdam, floor 3", "Amsterdam, floor 2"}[i]
		hs.addDevice(&hotdesk.Device{Label: label, Model: "snom", Mode: hotdesk.ModeHotdesk, Location: hotdesk.Location{Text: loc}})
	}
	hs.regs.Set("HD00001", hotdesk.Binding{Device: "HD00001", Contact: "sip:HD00001@192.0.2.31:5060"})
	hs.regs.Set("HD00002", hotdesk.Binding{Device: "HD00002", Contact: "sip:HD00002@192.0.2.32:5060"})

	step(t, ctx, "desks", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("desk-HD00001")))
	waitFor(t, ctx, "live stream connected", `document.body.classList.contains('live')`)
	if s := eval[string](t, ctx, deskState("HD00001")); s != "free" {
		t.Fatalf("desk state %q, want free", s)
	}
	eval[int](t, ctx, `window.__noReload = 42`)

	// The API (stand-in: the desk Service) logs the user in; the page updates by itself.
	hs.login("201", "HD00001")
	waitFor(t, ctx, "desk turns occupied live", deskState("HD00001")+` === 'occupied'`)
	if eval[int](t, ctx, `window.__noReload || 0`) != 42 {
		t.Fatal("the page reloaded")
	}
	if who := eval[string](t, ctx, `document.querySelector('#desk-HD00001 .who').innerText`); !strings.Contains(who, "201") || !strings.Contains(who, "Ann Jansen") {
		t.Fatalf("occupied desk shows %q", who)
	}
	screenshot(t, ctx, out, "desks-occupied")

	// The B2BUA's call events: the badge comes and goes live.
	call := func(kind string) {
		hs.bus.Publish(events.Event{Kind: kind, Device: "HD00001", Extension: "201", CallID: "browser-call@test", Direction: "initiator", Peer: "202"})
	}
	callBadge := `document.querySelector('#desk-HD00001 .badge.call')?.textContent`
	if eval[string](t, ctx, `document.querySelector('#desk-HD00001').dataset.call`) != "" {
		t.Fatal("a call shown before any call event")
	}
	call(events.KindCallTrying)
	call(events.KindCallEarly)
	waitFor(t, ctx, "desk rings live", `document.querySelector('#desk-HD00001 .badge.ringing')?.textContent === 'ringing'`)
	call(events.KindCallConfirmed)
	waitFor(t, ctx, "desk on a call live", callBadge+` === 'on a call' && !document.querySelector('#desk-HD00001 .badge.ringing')`)
	screenshot(t, ctx, out, "desks-on-call")
	call(events.KindCallTerminated)
	waitFor(t, ctx, "call badge gone live", `!document.querySelector('#desk-HD00001 .badge.call') && document.querySelector('#desk-HD00001').dataset.call === ''`)
	if eval[int](t, ctx, `window.__noReload || 0`) != 42 {
		t.Fatal("a call event reloaded the page")
	}

	// A registration event alone also refreshes the table.
	hs.regs.Set("HD00003", hotdesk.Binding{Device: "HD00003", Contact: "sip:HD00003@192.0.2.33:5060"})
	hs.bus.Publish(events.Event{Kind: hotdesk.KindRegistered, Device: "HD00003"})
	waitFor(t, ctx, "desk registers live", deskState("HD00003")+` === 'free'`)

	step(t, ctx, "press logout", chromedp.Click(chromedp.CSS(`#desk-HD00001 button`)))
	waitFor(t, ctx, "desk free again", deskState("HD00001")+` === 'free'`)
	if eval[int](t, ctx, `window.__noReload || 0`) != 42 {
		t.Fatal("logout reloaded the page")
	}
	screenshot(t, ctx, out, "desks-free")

	step(t, ctx, "audit", chromedp.Navigate(srv.URL+"/audit"), chromedp.WaitVisible(chromedp.ID("audit")))
	waitFor(t, ctx, "logout audited", `[...document.querySelectorAll('#audit tr.kind-logout')].some(r => r.innerText.includes('HD00001') && r.innerText.includes('console:admin') && r.innerText.includes('admin'))`)
	screenshot(t, ctx, out, "audit")

	// Bad input: the message is next to the field and the typed values stay.
	step(t, ctx, "bad user form", chromedp.Navigate(srv.URL+"/users/new"),
		chromedp.SendKeys(chromedp.ID("f-extension"), "2a"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Bob de Vries"),
		chromedp.SendKeys(chromedp.ID("f-caller_id"), "020-1234"))
	submit(t, ctx, "submit bad user", `form[action="/users"] button.primary`)
	waitFor(t, ctx, "error shown", `document.querySelector('#err-extension')?.textContent.includes('2 to 6 digits')`)
	if v := eval[string](t, ctx, `document.querySelector('#f-name').value + '|' + document.querySelector('#f-caller_id').value`); v != "Bob de Vries|020-1234" {
		t.Fatalf("typed input lost: %q", v)
	}
	if eval[string](t, ctx, `document.querySelector('#err-caller_id')?.textContent || ''`) == "" {
		t.Fatal("caller ID error not shown")
	}
	screenshot(t, ctx, out, "user-form-error")

	step(t, ctx, "settings", chromedp.Navigate(srv.URL+"/settings"), chromedp.WaitVisible(chromedp.ID("f-star35")))
	screenshot(t, ctx, out, "settings")
	step(t, ctx, "device page", chromedp.Navigate(srv.URL+"/devices/HD00001"), chromedp.WaitVisible(chromedp.ID("f-label")))
	screenshot(t, ctx, out, "device")

	// A phone locked after wrong PINs: the device page says so and its
	// Unlock button (a CSRF-checked form) lifts the lock.
	until := hs.clock.Now().Add(desk.LockFor)
	locked := &until
	if _, err := hs.store.UpdateDevice(context.Background(), "HD00001", hotdesk.DeviceUpdate{LockedUntil: &locked}); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "locked device page", chromedp.Navigate(srv.URL+"/devices/HD00001"), chromedp.WaitVisible(chromedp.ID("unlock-device")))
	screenshot(t, ctx, out, "device-locked")
	submit(t, ctx, "press unlock", "#unlock-device")
	waitFor(t, ctx, "unlocked", `!document.querySelector('#unlock-device') && document.body.innerText.includes('Unlocked.')`)
	if d := hs.device("HD00001"); d.LockedUntil != nil {
		t.Fatalf("still locked until %v", d.LockedUntil)
	}

	// Filters: only occupied desks, and the live refresh keeps the filter.
	hs.login("201", "HD00002")
	step(t, ctx, "desks again", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("desk-HD00002")))
	waitFor(t, ctx, "live stream connected again", `document.body.classList.contains('live')`)
	eval[int](t, ctx, `window.__noReload = 42`)
	eval[bool](t, ctx, `(s => { s.value = 'occupied'; return s.dispatchEvent(new Event('change', {bubbles: true})) })(document.querySelector('#f-state'))`)
	waitFor(t, ctx, "filtered to occupied", `document.querySelectorAll('#desks tr.desk').length === 1 && !!document.querySelector('#desk-HD00002')`)
	hs.regs.Set("HD00001") // a registration change refreshes the filtered table
	hs.bus.Publish(events.Event{Kind: hotdesk.KindUnregistered, Device: "HD00001"})
	hs.login("201", "HD00003")
	waitFor(t, ctx, "filter kept on live refresh", `document.querySelectorAll('#desks tr.desk').length === 1 && !!document.querySelector('#desk-HD00003')`)
	if u := eval[string](t, ctx, `location.pathname + location.search`); u != "/?location=&state=occupied" {
		t.Errorf("address bar %q does not keep the filter", u)
	}

	// A server error on an htmx request shows its message instead of
	// failing silently: the logout works, the table refresh fails.
	hs.store.setFail(errors.New("disk I/O error"))
	step(t, ctx, "logout with a failing table", chromedp.Click(chromedp.CSS(`#desk-HD00003 button`)))
	waitFor(t, ctx, "error shown", `document.querySelector('#request-error')?.textContent.includes('Something went wrong on the server')`)
	if eval[int](t, ctx, `window.__noReload || 0`) != 42 || strings.Contains(eval[string](t, ctx, `document.body.innerText`), "disk I/O") {
		t.Fatal("the page reloaded or shows the internal error")
	}
	hs.store.setFail(nil)
	hs.login("201", "HD00003")
	waitFor(t, ctx, "error cleared by the next refresh", `!document.querySelector('#request-error') && `+deskState("HD00003")+` === 'occupied'`)

	// The desks page on a phone-sized screen.
	step(t, ctx, "phone view", chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("desk-HD00003")))
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 400 {
		t.Errorf("desks page is %d px wide on a 390 px screen", w)
	}
	if w := eval[int](t, ctx, `Math.ceil(Math.max(...[...document.querySelectorAll('.top nav a')].map(a => a.getBoundingClientRect().right)))`); w > 390 {
		t.Errorf("the menu runs off a 390 px screen (to %d px)", w)
	}
	screenshot(t, ctx, out, "desks-phone")
	for _, path := range []string{"/users", "/users/201", "/devices", "/devices/HD00001", "/audit", "/settings", "/users/new"} {
		step(t, ctx, "phone "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("%s is %d px wide on a 390 px screen", path, w)
		}
		if path == "/audit" || path == "/users/201" {
			screenshot(t, ctx, out, strings.ReplaceAll(strings.Trim(path, "/"), "/", "-")+"-phone")
		}
	}
	step(t, ctx, "back to the desks", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("desk-HD00003")))

	// Log everyone out, after a confirmation page.
	step(t, ctx, "log everyone out", chromedp.Click(chromedp.CSS(`a[href="/desks/logout-all"]`)), chromedp.WaitVisible(chromedp.ID("confirm-logout-all")))
	if text := eval[string](t, ctx, `document.querySelector('main').innerText`); !strings.Contains(text, "logs out 1 user") {
		t.Fatalf("confirmation page says %q", text)
	}
	submit(t, ctx, "confirm", "#confirm-logout-all")
	waitFor(t, ctx, "everyone logged out", `document.querySelector('.flash')?.textContent === 'Logged out 1 user.' && `+deskState("HD00003")+` === 'free'`)
	if ls, err := hs.store.ListLogins(context.Background()); err != nil || len(ls) != 0 {
		t.Fatalf("logins left: %v, %v", ls, err)
	}
	screenshot(t, ctx, out, "desks-phone-free")
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }
func (s *statusRecorder) Flush()            { s.ResponseWriter.(http.Flusher).Flush() }
