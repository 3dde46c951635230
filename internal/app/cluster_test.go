package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the admin connection

	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres/pgtest"
)

// mustPostgresSchema returns a URL of a fresh schema in the database of
// HOTDESK_TEST_POSTGRES (dropped when the test ends), or skips the test.
func mustPostgresSchema(tb testing.TB) string {
	tb.Helper()
	url, _ := pgtest.MustSchema(tb, pgtest.DSN(tb))
	return url
}

// mustStartNode starts one node of a cluster on the database at db.
func mustStartNode(tb testing.TB, node, db, rtp string, demo bool) *running {
	tb.Helper()
	cfg := testConfig(tb.TempDir(), demo)
	cfg.DB, cfg.Node, cfg.RTPPorts = db, node, rtp
	r := mustStart(tb, cfg)
	if r.Cluster() == nil {
		tb.Fatalf("node %s on PostgreSQL has no cluster bridge", node)
	}
	select {
	case <-r.Cluster().Listening():
	case <-time.After(10 * time.Second):
		tb.Fatalf("node %s never listened for the other nodes' events", node)
	}
	return r
}

// sse follows r's /api/v1/events?kinds=… until the test ends.
func (r *running) sse(tb testing.TB, kinds string) <-chan events.Event {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", r.HTTPURL()+"/api/v1/events?kinds="+kinds, nil)
	req.Header.Set("Authorization", "Bearer "+r.AdminToken())
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		cancel()
		tb.Fatalf("GET /events: %v %v", res, err)
	}
	out := make(chan events.Event, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e events.Event
			if json.Unmarshal([]byte(data), &e) == nil {
				select {
				case out <- e:
				default:
				}
			}
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
	return out
}

// TestClusterLoginOnOneNodeReachesTheOther is SPEC 8 with two whole PBXes
// on one PostgreSQL schema: 201 logs in on HD00001, registered on node b;
// then 201 logs in on HD00002 through node a's API. Node b must send
// HD00001 its check-sync, list the new login, and stream the logout of
// HD00001 (marked as node a's) to its API clients.
func TestClusterLoginOnOneNodeReachesTheOther(t *testing.T) {
	db := mustPostgresSchema(t)
	a := mustStartNode(t, "a", db, "31000-31499", true)
	b := mustStartNode(t, "b", db, "31500-31999", false)

	hd1 := demoPhone(t, b, "HD00001")
	loginByPhone(t, hd1, "*35*201*1234")
	if got := a.logins(t); got != "201@HD00001" {
		t.Fatalf("node a after the login on node b: logins %q", got)
	}
	if _, err := hd1.WaitNotify(1, "check-sync", 3*time.Second); err != nil {
		t.Fatalf("HD00001 got no check-sync after its own login: %v", err)
	}
	// For comparison, the same roaming within node b, and back.
	local := roam(t, b, hd1, "HD00002")
	roam(t, b, hd1, "HD00001")
	logouts := b.sse(t, "logout")
	remote := roam(t, a, hd1, "HD00002")
	t.Logf("POST /logins answered -> check-sync NOTIFY at HD00001: %v through node a (other node), %v through node b (its own node)",
		remote.Round(100*time.Microsecond), local.Round(100*time.Microsecond))

	if got := b.logins(t); got != "201@HD00002" {
		t.Fatalf("node b logins %q, want 201@HD00002", got)
	}
	select {
	case e := <-logouts:
		if e.Extension != "201" || e.Device != "HD00001" || e.Node != "a" {
			t.Fatalf("node b streamed %+v, want the logout of 201 from HD00001 by node a", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("node b's event stream never showed the logout of HD00001")
	}
}

// roam logs 201 in on device through r's API and returns how long after the
// API answered phone (where 201 was or is going) got its check-sync.
func roam(tb testing.TB, r *running, phone *siptest.Phone, device string) time.Duration {
	tb.Helper()
	syncs, _ := phone.WaitNotify(0, "check-sync", 0) // message-summary NOTIFYs come too
	before := len(syncs)
	if code := r.api(tb, "POST", "/logins", `{"extension":"201","device":"`+device+`"}`, nil); code != http.StatusOK && code != http.StatusCreated {
		tb.Fatalf("POST /logins 201 on %s through node %s: %d", device, r.cfg.Node, code)
	}
	answered := time.Now()
	if _, err := phone.WaitNotify(before+1, "check-sync", 5*time.Second); err != nil {
		tb.Fatalf("%s got no check-sync after 201 logged in on %s through node %s: %v", phone.User(), device, r.cfg.Node, err)
	}
	return time.Since(answered)
}

// TestClusterDeliversWebhooksOnce: with two nodes reading one outbox, each
// event reaches a webhook once, whichever node it happened on.
func TestClusterDeliversWebhooksOnce(t *testing.T) {
	db := mustPostgresSchema(t)
	var mu sync.Mutex
	got := map[string]int{} // event id -> deliveries
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ID int64 `json:"id"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		got[fmt.Sprint(body.ID)]++
		mu.Unlock()
	}))
	defer hook.Close()
	a := mustStartNode(t, "a", db, "31000-31499", true)
	b := mustStartNode(t, "b", db, "31500-31999", false)
	if code := a.api(t, "POST", "/webhooks", `{"url":"`+hook.URL+`","kinds":["login"]}`, nil); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("POST /webhooks: %d", code)
	}
	for i, n := range []*running{a, b, a, b} {
		body := fmt.Sprintf(`{"extension":"20%d","device":"HD0000%d"}`, i+1, i%3+1)
		if code := n.api(t, "POST", "/logins", body, nil); code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("POST /logins %s through node %s: %d", body, n.cfg.Node, code)
		}
	}
	// The lock holder waits 3 s after taking the lock before delivering.
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 4 logins delivered within 15 s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second node delivering would do it by now
	mu.Lock()
	defer mu.Unlock()
	for id, n := range got {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
}
