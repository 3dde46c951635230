package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// liveList is a settable source of live calls.
type liveList struct {
	mu    sync.Mutex
	calls []LiveCall
}

func (l *liveList) get() []LiveCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LiveCall(nil), l.calls...)
}
func (l *liveList) set(cs ...LiveCall) { l.mu.Lock(); l.calls = cs; l.mu.Unlock() }

// callsScene: 60 calls of 201 at HD00001 (every 10 minutes from 07:00,
// every third busy) and one of 202 at HD00002.
func callsScene(t *testing.T) (*harness, *liveList) {
	hs := newHarness(t)
	live := &liveList{}
	hs.reconfigure(func(o *Options, _ *admin.Options) { o.LiveCalls = live.get })
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	for i := range 60 {
		cr := &hotdesk.CallRecord{CallID: fmt.Sprintf("c%d@test", i), Extension: "201", Direction: hotdesk.DirectionOutbound,
			Peer: fmt.Sprintf("06%08d", i), Device: "HD00001", Start: start.Add(time.Duration(i) * 10 * time.Minute), Result: hotdesk.ResultAnswered}
		if i%3 == 0 {
			cr.Result = hotdesk.ResultBusy
		}
		if err := hs.store.CreateCall(ctx, cr); err != nil {
			t.Fatal(err)
		}
	}
	if err := hs.store.CreateCall(ctx, &hotdesk.CallRecord{CallID: "x@test", Extension: "202", Direction: hotdesk.DirectionInbound,
		Peer: "+31201234567", Device: "HD00002", Start: start, Result: hotdesk.ResultNoAnswer}); err != nil {
		t.Fatal(err)
	}
	return hs, live
}

func TestCallLog(t *testing.T) {
	t.Parallel()
	hs, live := callsScene(t)
	live.set(LiveCall{CallID: "l1", From: "201", To: "0612345678", Extension: "201", Device: "HD00001", State: "confirmed", Since: hs.clock.Now()})
	c := hs.signIn()
	w := c.get("/calls")
	mustContain(t, w, http.StatusOK, `aria-current="page">Calls`, `<p class="summary" id="calls-total">61 calls</p>`, "0612345678", "talking", `href="/calls?offset=50"`)
	if n := strings.Count(w.Body.String(), `<tr class="call `); n != 50 {
		t.Fatalf("%d rows on the first page", n)
	}
	mustContain(t, c.get("/calls?extension=202"), http.StatusOK, `id="calls-total">1 call<`, "31201234567")
	mustContain(t, c.get("/calls?device=HD00001&result=busy"), http.StatusOK, `id="calls-total">20 calls<`)
	mustContain(t, c.get("/calls?since=2026-03-02T08:00&until=2026-03-02T08:59"), http.StatusOK, `id="calls-total">6 calls<`)
	mustContain(t, c.get("/calls?result=exploded"), http.StatusBadRequest, "result must be one of")
	mustContain(t, c.get("/calls?since=yesterday"), http.StatusBadRequest, "Use a date and time like")

	w = c.get("/calls/export.csv?extension=201&result=busy")
	body := w.Body.String()
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(body, "start,extension,direction,peer,device,result,answer,end,talk_seconds,emergency,call_id\n") ||
		strings.Count(body, "\n") != 21 || strings.Contains(body, "answered") {
		t.Fatalf("export %d:\n%s", w.Code, body)
	}
	live.set()
	mustContain(t, c.get("/calls/live"), http.StatusOK, "No calls right now.")
}

func TestBrowserCalls(t *testing.T) {
	// Not parallel: Chromiums side by side time out on a loaded 2-core machine.
	hs, live := callsScene(t)
	ctx, url := hs.browse(t)
	step(t, ctx, "calls", chromedp.Navigate(url+"/calls"), chromedp.WaitVisible(chromedp.ID("call-log")))
	waitFor(t, ctx, "live stream connected", `document.body.classList.contains('live')`)
	if !eval[bool](t, ctx, `!!document.querySelector('#no-live-calls')`) {
		t.Fatal("a live call before any")
	}
	live.set(LiveCall{CallID: "l1", From: "201", To: "0612345678", Extension: "201", Device: "HD00001", State: "early", Since: hs.clock.Now()})
	hs.bus.Publish(events.Event{Kind: events.KindCallEarly, Device: "HD00001", Extension: "201", CallID: "l1"})
	waitFor(t, ctx, "live call appears", `document.querySelector('.live-call')?.dataset.state === 'early'`)
	step(t, ctx, "filter", chromedp.SendKeys(chromedp.ID("f-extension"), "202"))
	submit(t, ctx, "filter", `#calls-filter`)
	waitFor(t, ctx, "filtered", `document.querySelector('#calls-total')?.textContent === '1 call' && location.search.includes('extension=202')`)
	if href := eval[string](t, ctx, `document.querySelector('#calls-csv').getAttribute('href')`); href != "/calls/export.csv?extension=202" {
		t.Fatalf("CSV link %q", href)
	}
	screenshot(t, ctx, outputDir(t), "calls")
}
