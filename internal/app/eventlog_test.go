package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres/pgtest"
)

// tryAPI is running.api without failing the test on a transport error
// (0), for calls made while the database may be down.
func (r *running) tryAPI(method, path, body string) int {
	req, err := http.NewRequest(method, r.HTTPURL()+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+r.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// mustAPIRetry calls the API until it answers 2xx, for at most 30 s.
func (r *running) mustAPIRetry(tb testing.TB, method, path, body string) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code := r.tryAPI(method, path, body)
		if code >= 200 && code < 300 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s %s %s through node %s: still %d after 30 s", method, path, body, r.cfg.Node, code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterEventsSurvivePostgresRestart: PostgreSQL is restarted
// (pg_ctl restart -m fast) in the middle of a stream of logins made through
// node a's API, each of another user on another phone, every phone
// registered on node b. Every login's check-sync reaches its phone from
// node b, and each login's webhook is delivered once.
func TestClusterEventsSurvivePostgresRestart(t *testing.T) {
	srv := pgtest.Private(t, false)
	var mu sync.Mutex
	delivered := map[string]int{} // extension of a login -> deliveries
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Kind, Extension string
		}
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		delivered[body.Extension]++
		mu.Unlock()
	}))
	defer hook.Close()
	a := mustStartNode(t, "a", srv.DSN, "31000-31499", true)
	b := mustStartNode(t, "b", srv.DSN, "31500-31999", false)
	a.mustAPIRetry(t, "POST", "/webhooks", `{"url":"`+hook.URL+`","kinds":["login"]}`)

	const n = 12
	phones := make([]*siptest.Phone, n)
	for i := range n {
		ext, dev := fmt.Sprint(400+i), fmt.Sprintf("EV%02d", i)
		a.mustAPIRetry(t, "POST", "/users", `{"extension":"`+ext+`","name":"U`+ext+`","hotdesk":true,"pin":"4321"}`)
		a.mustAPIRetry(t, "POST", "/devices", `{"id":"`+dev+`","label":"`+dev+`","mode":"hotdesk","sip_password":"secret-`+dev+`-long"}`)
		phones[i] = siptest.New(t, siptest.Options{Server: b.SIPAddr(), User: dev, Password: "secret-" + dev + "-long", Domain: b.cfg.Domain})
		phones[i].MustRegister(t)
	}
	loggedIn := make([]time.Time, n)
	for i := range n {
		if i == n/3 {
			start := time.Now()
			srv.Restart(t)
			t.Logf("PostgreSQL restarted in %v", time.Since(start).Round(time.Millisecond))
		}
		a.mustAPIRetry(t, "POST", "/logins", fmt.Sprintf(`{"extension":"%d","device":"EV%02d"}`, 400+i, i))
		loggedIn[i] = time.Now()
		time.Sleep(100 * time.Millisecond)
	}
	for i, p := range phones {
		if _, err := p.WaitNotify(1, "check-sync", 15*time.Second); err != nil {
			t.Errorf("EV%02d: no check-sync from node b after its login (%v after it): %v", i, time.Since(loggedIn[i]).Round(time.Millisecond), err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := len(delivered)
		mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a second delivery would come by now
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		if c := delivered[fmt.Sprint(400+i)]; c != 1 {
			t.Errorf("login of %d delivered to the webhook %d times, want once", 400+i, c)
		}
	}
}

// TestClusterDeadlineAfterRestartAndNodeLoss: a login made through node a
// just after PostgreSQL restarted (its first event since), then node a
// stopped: node b logs the user out at the login's deadline. (Its NOTIFY
// used to be dropped on a's broken connection, and b, having resynced
// before the login, never scheduled the deadline.)
func TestClusterDeadlineAfterRestartAndNodeLoss(t *testing.T) {
	srv := pgtest.Private(t, false)
	a := mustStartNode(t, "a", srv.DSN, "31000-31499", true)
	b := mustStartNode(t, "b", srv.DSN, "31500-31999", false)
	// The API refuses deadlines under a minute; the store takes any.
	const maxDuration = 4 * time.Second
	store, err := postgres.Open(context.Background(), srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.GetSettings(context.Background())
	if err == nil {
		st.AutoLogout.MaxDuration = maxDuration.String()
		err = store.PutSettings(context.Background(), st)
	}
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the nodes' settings caches last 2 s

	srv.Restart(t)
	// Once the database answers again and every node has had time to
	// reconnect, the login is the first event after the restart.
	a.mustAPIRetry(t, "GET", "/logins", "")
	time.Sleep(3 * time.Second)
	a.mustAPIRetry(t, "POST", "/logins", `{"extension":"201","device":"HD00002"}`)
	since := time.Now()
	a.stop()
	if got := b.logins(t); got != "201@HD00002" {
		t.Fatalf("node b logins %q after the login through a", got)
	}
	for time.Since(since) < maxDuration+5*time.Second {
		if got := b.logins(t); got == "" {
			if d := time.Since(since); d < maxDuration-time.Second {
				t.Fatalf("logged out after %v, before the %v deadline", d, maxDuration)
			}
			t.Logf("node b logged 201 out %v after the login", time.Since(since).Round(10*time.Millisecond))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("node b had not logged 201 out %v after a login with a %v deadline", time.Since(since).Round(time.Second), maxDuration)
}
