package console

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

func TestDesksLoginLogoutAndAudit(t *testing.T) {
	hs, c := newSignedIn(t)
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann Jansen"}, "outbound": {"national"}, "hotdesk": {"on"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk A"}, "location": {"Floor 3"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk B"}, "location": {"Floor 4"}})
	hs.regs.Set("HD00001", hotdesk.Binding{Contact: "sip:a@192.0.2.1"})
	mustContain(t, c.get("/"), 200, `data-state="free"`, `data-state="unregistered"`, "0</strong> of 2 desks occupied")

	hs.login("201", "HD00001")
	w := c.get("/desks/table?state=occupied")
	mustContain(t, w, 200, `id="desk-HD00001"`, `data-state="occupied"`, "Ann Jansen")
	if strings.Contains(w.Body.String(), "HD00002") || strings.Contains(w.Body.String(), "<html") {
		t.Fatal("filter ignored or the fragment is a whole page")
	}
	mustContain(t, c.get("/?location=Floor+4"), 200, "HD00002")

	w = hs.do(c, "POST", "/desks/HD00001/logout", url.Values{"filter": {"location=&state="}}, csrfHeader, c.csrf, "HX-Request", "true")
	mustContain(t, w, 200, `id="desk-HD00001" class="desk state-free"`)
	if _, err := hs.store.LoginByDevice(context.Background(), "HD00001"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("still logged in: %v", err)
	}
	mustContain(t, c.get("/audit?kind=logout"), 200, "admin", "console:admin", "HD00001")
	mustContain(t, c.get("/audit?since=yesterday"), http.StatusBadRequest, "Use a date and time")

	// Log everyone out, with a confirmation step.
	hs.desk.Login(context.Background(), desk.LoginRequest{Extension: "201", Device: "HD00002", Via: hotdesk.ViaAPI})
	mustContain(t, c.get("/desks/logout-all"), 200, "Yes, log everyone out", "<strong>1</strong> user")
	c.mustPost("/desks/logout-all", nil)
	if ls, _ := hs.store.ListLogins(context.Background()); len(ls) != 0 {
		t.Fatalf("logins left: %v", ls)
	}
}

// openEvents opens the console's event stream on srvURL as c until ctx
// ends and reads its preamble, so events published next reach it.
func openEvents(t *testing.T, ctx context.Context, srvURL string, c *client) *bufio.Reader {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", srvURL+"/events", nil)
	req.AddCookie(c.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	if _, err := rd.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	return rd
}

// nextData returns the next "data: " line of the stream.
func nextData(t *testing.T, rd *bufio.Reader) string {
	t.Helper()
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			return line
		}
	}
}

// mustClose fails unless the server ends the stream within 3 s.
func mustClose(t *testing.T, rd io.Reader, why string) {
	t.Helper()
	read := make(chan error, 1)
	go func() { _, err := io.ReadAll(rd); read <- err }()
	select {
	case err := <-read:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal(why)
	}
}

func TestEventsStream(t *testing.T) {
	hs, c := newSignedIn(t)
	srv := hs.serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rd := openEvents(t, ctx, srv.URL, c)
	hs.bus.Publish(events.Event{Kind: events.KindCallTrying, Device: "HD00009"}) // not a desk change
	hs.bus.Publish(events.Event{Kind: hotdesk.KindLogin, Device: "HD00001", Extension: "201"})
	if line := nextData(t, rd); !strings.Contains(line, `"kind":"login"`) || !strings.Contains(line, `"device":"HD00001"`) {
		t.Fatalf("data = %q (non-desk events must not be forwarded)", line)
	}
}

func TestRunEndsStreams(t *testing.T) {
	hs, c := newSignedIn(t)
	srv := hs.serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- hs.con.Run(ctx) }()
	rd := openEvents(t, context.Background(), srv.URL, c)
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	mustClose(t, rd, "stream still open after Run ended")
}

func TestCloseEndsStreams(t *testing.T) {
	hs, c := newSignedIn(t)
	srv := hs.serve(t)
	rd := openEvents(t, context.Background(), srv.URL, c)
	hs.con.Close()
	hs.con.Close() // twice is fine
	mustClose(t, rd, "stream still open after Close")
}

// A server WriteTimeout shorter than the stream must not cut it: the
// stream clears its own write deadline.
func TestEventsStreamOutlivesWriteTimeout(t *testing.T) {
	hs, c := newSignedIn(t)
	srv := httptest.NewUnstartedServer(hs.h)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rd := openEvents(t, ctx, srv.URL, c)
	time.Sleep(600 * time.Millisecond) // past the write timeout
	hs.bus.Publish(events.Event{Kind: hotdesk.KindLogout, Device: "HD00001"})
	nextData(t, rd)
}
