package console

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hotdesk-pbx/hotdesk"
)

// switchServer serves the console until down is set; then every request
// has its connection dropped (a stopped server) and cut() ends the open
// event streams.
type switchServer struct {
	*httptest.Server
	down    atomic.Bool
	mu      sync.Mutex
	streams []context.CancelFunc
}

func newSwitchServer(t *testing.T, h http.Handler) *switchServer {
	s := &switchServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			panic(http.ErrAbortHandler) // the connection drops, as from a stopped server
		}
		if r.URL.Path == "/events" {
			ctx, cancel := context.WithCancel(r.Context())
			s.mu.Lock()
			s.streams = append(s.streams, cancel)
			s.mu.Unlock()
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// stop makes the server unreachable and cuts the streams it was serving.
func (s *switchServer) stop() {
	s.down.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.streams {
		cancel()
	}
	s.streams = nil
}

// signInBrowser signs the tab ctx in as the harness's admin at the
// console served at base.
func signInBrowser(t *testing.T, ctx context.Context, hs *harness, base string) {
	t.Helper()
	step(t, ctx, "open sign-in", chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), "admin"),
		chromedp.SendKeys(chromedp.ID("f-password"), hs.pw))
	submit(t, ctx, "sign in", `button[type=submit]`)
	waitFor(t, ctx, "signed in", `document.querySelector('.whoami')?.textContent === 'admin'`)
}

// TestBrowserAdminDefects drives the console in Chromium through what an
// admin found: the desks page says clearly when it is not live and catches
// up on reconnect; the login picker names who is where; "Unregistered"
// keeps occupied phones; ?flash= shows nothing; a signed-in 404 keeps the
// menu; the skip link comes first; badges are readable; the
// device page's registration table is readable on a 360–400 px phone.
func TestBrowserAdminDefects(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	out := outputDir(t)
	for _, u := range []*hotdesk.User{{Extension: "201", Name: "Ann Jansen"}, {Extension: "203", Name: "Cor Bakker"}} {
		u.Hotdesk, u.Outbound = true, "national"
		hs.addUser(u)
	}
	for i, label := range []string{"Desk 3.14", "Desk 3.15", "Desk 2.01"} {
		loc := []string{"Amsterdam, floor 3", "Amsterdam, floor 3", "Amsterdam, floor 2"}[i]
		hs.addDevice(&hotdesk.Device{Label: label, Model: "snom", Mode: hotdesk.ModeHotdesk, Location: hotdesk.Location{Text: loc}})
	}
	hs.regs.Set("HD00001",
		hotdesk.Binding{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:5062;transport=tcp;line=x8f3kq2w", Transport: "tcp", Source: "127.0.0.1:40522",
			UserAgent: "snom D785/10.1.141.13 (a rather long user agent string)", Node: "pbx-a", Expires: hs.clock.Now().Add(time.Hour)},
		hotdesk.Binding{Device: "HD00001", Contact: "sip:HD00001@127.0.0.2:5062", Transport: "udp", Source: "127.0.0.2:5062",
			UserAgent: "snom D785/10.1.141.13", Node: "pbx-b", Expires: hs.clock.Now().Add(time.Hour)})
	srv := newSwitchServer(t, hs.h)
	ctx := browser(t)
	signInBrowser(t, ctx, hs, srv.URL)

	// 4. The event stream breaks: a clear banner, not just a dot.
	step(t, ctx, "desks", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("desk-HD00002")))
	waitFor(t, ctx, "live", `document.body.classList.contains('live')`)
	if eval[bool](t, ctx, `!!document.querySelector('#live-banner')`) {
		t.Fatal("banner on a live page")
	}
	srv.stop()
	waitFor(t, ctx, "not-live banner", `document.querySelector('#live-banner')?.textContent.startsWith('Not live — reconnecting') && document.body.classList.contains('not-live') && !document.body.classList.contains('live')`)
	screenshot(t, ctx, out, "desks-not-live")
	// What happens meanwhile is missed by the page …
	hs.login("201", "HD00002")
	time.Sleep(500 * time.Millisecond)
	if s := eval[string](t, ctx, deskState("HD00002")); s == "occupied" {
		t.Fatalf("desk %q while the server is down", s)
	}
	// … and shown once the server is back: banner gone, data refreshed.
	srv.down.Store(false)
	waitFor(t, ctx, "live again and refreshed", `!document.querySelector('#live-banner') && document.body.classList.contains('live') && `+deskState("HD00002")+` === 'occupied'`)
	screenshot(t, ctx, out, "desks-live-again")

	// 2. The login picker names who is at each desk; the message names who was logged out.
	step(t, ctx, "user page", chromedp.Navigate(srv.URL+"/users/203"), chromedp.WaitVisible(chromedp.ID("f-device")))
	opts := eval[string](t, ctx, `[...document.querySelectorAll('#f-device option')].map(o => o.textContent).join('\n')`)
	if !strings.Contains(opts, "HD00002 · Desk 3.15 — 201 Ann Jansen is logged in") || !strings.Contains(opts, "HD00001 · Desk 3.14 — free") {
		t.Fatalf("picker options:\n%s", opts)
	}
	step(t, ctx, "choose HD00002", chromedp.SetValue(chromedp.ID("f-device"), "HD00002"))
	screenshot(t, ctx, out, "user-login-picker")
	submit(t, ctx, "log in", `form[action="/users/203/login"] button`)
	waitFor(t, ctx, "who was logged out", `document.querySelector('.flash')?.textContent === 'Logged 203 in at HD00002; 201 was logged out of it.'`)
	step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if eval[bool](t, ctx, `!!document.querySelector('.flash')`) {
		t.Fatal("the flash shows again after a reload")
	}

	// 3. "Unregistered" lists the occupied phone that is offline (HD00002, 203 at it).
	step(t, ctx, "unregistered filter", chromedp.Navigate(srv.URL+"/?state=unregistered"), chromedp.WaitVisible(chromedp.ID("desks")))
	if got := eval[string](t, ctx, `[...document.querySelectorAll('#desks tr.desk')].map(r => r.id + ':' + r.dataset.state).join(' ')`); got != "desk-HD00002:occupied desk-HD00003:unregistered" {
		t.Fatalf("unregistered filter shows %q", got)
	}

	// 5. A link with ?flash= shows no message.
	step(t, ctx, "spoofed flash", chromedp.Navigate(srv.URL+"/?flash=Your+password+expired%2C+call+0900-HACKER"), chromedp.WaitVisible(chromedp.ID("desks")))
	if eval[bool](t, ctx, `!!document.querySelector('.flash') || document.body.innerText.includes('HACKER')`) {
		t.Fatal("a flash from the URL is shown")
	}

	// 6. A signed-in admin's 404 keeps the menu and offers no sign-in.
	step(t, ctx, "404", chromedp.Navigate(srv.URL+"/no/such/page"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if nav := eval[int](t, ctx, `document.querySelectorAll('.top nav a').length`); nav < 6 || strings.Contains(eval[string](t, ctx, `document.body.innerText`), "Sign in") {
		t.Fatalf("404 page: %d menu entries, text %q", nav, eval[string](t, ctx, `document.body.innerText`))
	}
	screenshot(t, ctx, out, "not-found")

	// 7. The skip link is the first thing Tab reaches and leads to the content.
	step(t, ctx, "device page", chromedp.Navigate(srv.URL+"/devices/HD00001"), chromedp.WaitVisible(chromedp.ID("f-label")))
	if b := eval[float64](t, ctx, `document.querySelector('a.skip').getBoundingClientRect().bottom`); b > 0 {
		t.Fatalf("the skip link shows before it has focus (bottom at %v px)", b)
	}
	step(t, ctx, "tab", chromedp.KeyEvent(kb.Tab)) // the first stop: the skip link, on screen while focused
	if got := eval[string](t, ctx, `(a => a.className + '|' + a.textContent + '|' + (a.getBoundingClientRect().top >= 0))(document.activeElement)`); got != "skip|Skip to content|true" {
		t.Fatalf("first Tab stop: %q", got)
	}
	viewShot(t, ctx, out, "skip-link")
	step(t, ctx, "follow skip link", chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "content focused", `location.hash === '#content' && document.activeElement === document.querySelector('main')`)

	// 7. Every badge colour pair is readable (WCAG AA for 12 px text).
	step(t, ctx, "desks with badges", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("desk-HD00003")))
	pairs := eval[[][]string](t, ctx, `[...document.querySelectorAll('.badge')].map(b => { const s = getComputedStyle(b); return [b.className, s.color, s.backgroundColor, s.fontSize] })`)
	if len(pairs) < 3 {
		t.Fatalf("badges: %v", pairs)
	}
	seen := map[string]bool{}
	for _, p := range pairs {
		r := contrast(t, p[1], p[2])
		if r < 4.5 {
			t.Errorf("badge %q: %s on %s at %s has contrast %.2f:1, want ≥ 4.5:1", p[0], p[1], p[2], p[3], r)
		}
		if !seen[p[0]] {
			seen[p[0]] = true
			t.Logf("badge %q: %s on %s, %.2f:1", p[0], p[1], p[2], r)
		}
	}
	if !seen["badge off"] {
		t.Fatalf("no unregistered badge checked: %v", pairs)
	}

	// 7. The registration table on a phone: no label over a value, nothing
	// wider than the screen.
	for _, width := range []int64{360, 400} {
		step(t, ctx, "phone device page", chromedp.EmulateViewport(width, 800), chromedp.Navigate(srv.URL+"/devices/HD00001"), chromedp.WaitVisible(chromedp.ID("f-label")))
		overlaps := eval[[]string](t, ctx, `[...document.querySelectorAll('td[data-label]')].filter(td => {
			const b = getComputedStyle(td, '::before'), s = getComputedStyle(td);
			if (b.content === 'none' || b.position !== 'absolute') return false;
			return parseFloat(b.left) + parseFloat(b.width) > parseFloat(s.paddingLeft);
		}).map(td => td.dataset.label + ': ' + td.innerText)`)
		if len(overlaps) > 0 {
			t.Errorf("%d px: labels over values: %q", width, overlaps)
		}
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > int(width) {
			t.Errorf("device page is %d px wide on a %d px screen", w, width)
		}
		step(t, ctx, "scroll to the registrations", chromedp.ScrollIntoView(chromedp.CSS(`td[data-label="Contact"]`)))
		viewShot(t, ctx, out, fmt.Sprintf("device-phone-%d", width))
	}
}

// viewShot writes a PNG of what the screen shows now (a phone-sized view
// of one part of a long page).
func viewShot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// contrast is the WCAG contrast ratio of two CSS rgb()/rgba() colours.
func contrast(t *testing.T, fg, bg string) float64 {
	t.Helper()
	lum := func(css string) float64 {
		var r, g, b float64
		if _, err := fmt.Sscanf(strings.NewReplacer("rgba(", "", "rgb(", "", ",", " ", ")", " ").Replace(css), "%g %g %g", &r, &g, &b); err != nil {
			t.Fatalf("colour %q: %v", css, err)
		}
		lin := func(c float64) float64 {
			c /= 255
			if c <= 0.03928 {
				return c / 12.92
			}
			return math.Pow((c+0.055)/1.055, 2.4)
		}
		return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
	}
	a, b := lum(fg), lum(bg)
	if a < b {
		a, b = b, a
	}
	return (a + 0.05) / (b + 0.05)
}
