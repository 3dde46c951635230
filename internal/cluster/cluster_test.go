package cluster

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the admin connection

	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres/pgtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustBridge(tb testing.TB, node, dsn string, bus *events.Bus) *Bridge {
	tb.Helper()
	b, err := New(Options{DSN: dsn, Node: node, Bus: bus, Logger: quiet(), MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestEncodePayload(t *testing.T) {
	big := strings.Repeat("x", MaxPayload)
	tests := []struct {
		name        string
		e           events.Event
		wantTrimmed bool
		wantErr     bool
	}{
		{"small", events.Event{Seq: 7, Kind: "login", Extension: "201", Device: "HD00001", Detail: "roam"}, false, false},
		{"big detail dropped", events.Event{Kind: "login", Detail: big}, true, false},
		{"too big without detail", events.Event{Kind: "login", Peer: big}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, trimmed, err := encode("a", "inst", tt.e)
			if (err != nil) != tt.wantErr || trimmed != tt.wantTrimmed {
				t.Fatalf("trimmed %v err %v, want trimmed %v err %v", trimmed, err, tt.wantTrimmed, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(p) > MaxPayload {
				t.Fatalf("payload of %d bytes", len(p))
			}
			b := mustBridge(t, "b", "postgres://x@/db", events.New())
			got, ok := b.decode(p)
			want := tt.e
			want.Seq, want.Node = 0, "a"
			if tt.wantTrimmed {
				want.Detail = ""
			}
			if !ok || got != want {
				t.Fatalf("decoded %+v %v, want %+v", got, ok, want)
			}
		})
	}
}

func TestDecodeSkipsOwnAndJunk(t *testing.T) {
	b := mustBridge(t, "a", "postgres://x@/db", events.New())
	own, _, _ := encode("a", b.instance, events.Event{Kind: "login"})
	sameName, _, _ := encode("a", "other-process", events.Event{Kind: "login"})
	noNode, _, _ := encode("", "other", events.Event{Kind: "login"})
	noKind, _, _ := encode("c", "other", events.Event{})
	tests := []struct {
		name    string
		payload string
		want    bool
	}{
		{"own notification echoed", own, false},
		{"another process with the same name", sameName, true},
		{"no node", noNode, false},
		{"no kind", noKind, false},
		{"not json", "login", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		if _, ok := b.decode(tt.payload); ok != tt.want {
			t.Errorf("%s: decode ok = %v, want %v", tt.name, ok, tt.want)
		}
	}
}

func TestChannelName(t *testing.T) {
	tests := []struct{ schema, want string }{
		{"", "hotdesk_events"},
		{"public", "hotdesk_events"},
		{"site2", "hotdesk_events_site2"},
	}
	for _, tt := range tests {
		if got := channelName(tt.schema); got != tt.want {
			t.Errorf("channelName(%q) = %q, want %q", tt.schema, got, tt.want)
		}
	}
	long := channelName(strings.Repeat("s", 60))
	if len(long) > 63 || long == channelName(strings.Repeat("t", 60)) {
		t.Errorf("long schema names: %q", long)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no bus", Options{DSN: "postgres://x@/db", Node: "a"}, "Bus"},
		{"no node", Options{DSN: "postgres://x@/db", Bus: events.New()}, "Node"},
		{"bad url", Options{DSN: "postgres://x@h:notaport/db", Node: "a", Bus: events.New()}, "database URL"},
	}
	for _, tt := range tests {
		if _, err := New(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want it to name %s", tt.name, err, tt.want)
		}
	}
}

// testDSN returns HOTDESK_TEST_POSTGRES or skips the test.
func testDSN(tb testing.TB) string { return pgtest.DSN(tb) }

// mustSchema creates a fresh schema, dropped when the test ends, and
// returns a URL using it and the admin connection.
func mustSchema(tb testing.TB, dsn string) (string, *sql.DB) { return pgtest.MustSchema(tb, dsn) }

// mustRun runs b until the test ends and waits for it to listen.
func mustRun(tb testing.TB, b *Bridge) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("run: %v", err)
			}
		case <-time.After(5 * time.Second):
			tb.Errorf("Run did not return within 5 s of cancel")
		}
	})
	select {
	case <-b.Listening():
	case <-time.After(10 * time.Second):
		tb.Fatal("bridge never listened")
	}
}

// next returns the next event on ch, or fails after 5 s.
func next(tb testing.TB, ch <-chan events.Event) events.Event {
	tb.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		tb.Fatal("no event within 5 s")
		return events.Event{}
	}
}

// none fails if ch delivers anything within d.
func none(tb testing.TB, ch <-chan events.Event, d time.Duration, what string) {
	tb.Helper()
	select {
	case e := <-ch:
		tb.Fatalf("%s: unexpected event %+v", what, e)
	case <-time.After(d):
	}
}

// TestEventsCrossNodesOnceAndStayInSchema: an event published on node a
// reaches node b once, marked with a; b does not send it back; a node of
// another schema in the same database hears nothing.
func TestEventsCrossNodesOnceAndStayInSchema(t *testing.T) {
	dsn := testDSN(t)
	url1, _ := mustSchema(t, dsn)
	url2, _ := mustSchema(t, dsn)
	busA, busB, busC := events.New(), events.New(), events.New()
	mustRun(t, mustBridge(t, "a", url1, busA))
	mustRun(t, mustBridge(t, "b", url1, busB))
	mustRun(t, mustBridge(t, "c", url2, busC))
	chA, cancelA := busA.Subscribe(16)
	defer cancelA()
	chB, cancelB := busB.Subscribe(16)
	defer cancelB()
	chC, cancelC := busC.Subscribe(16)
	defer cancelC()

	busA.Publish(events.Event{Kind: "login", Extension: "201", Device: "HD00002", Detail: "roam"})
	if e := next(t, chA); e.Remote() {
		t.Fatalf("a's own event marked remote: %+v", e)
	}
	e := next(t, chB)
	if e.Kind != "login" || e.Extension != "201" || e.Device != "HD00002" || e.Node != "a" || e.Detail != "roam" || e.Seq != 1 {
		t.Fatalf("b got %+v", e)
	}
	none(t, chA, 300*time.Millisecond, "a (b must not send a's event back)")
	none(t, chB, 0, "b (once)")
	none(t, chC, 0, "c (other schema)")
}

// TestListenReconnects: when the server drops the bridge's connections,
// it reconnects and events flow again.
func TestListenReconnects(t *testing.T) {
	dsn := testDSN(t)
	u, admin := mustSchema(t, dsn)
	node := fmt.Sprintf("r%d", time.Now().UnixNano())
	busA, busB := events.New(), events.New()
	mustRun(t, mustBridge(t, "a"+node, u, busA))
	mustRun(t, mustBridge(t, "b"+node, u, busB))
	chB, cancelB := busB.Subscribe(16)
	defer cancelB()
	busA.Publish(events.Event{Kind: "login", Device: "D1"})
	if e := next(t, chB); e.Device != "D1" {
		t.Fatalf("before: %+v", e)
	}
	var n int
	err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name IN ($1, $2)`,
		"hotdesk cluster a"+node, "hotdesk cluster b"+node).Scan(&n)
	if err != nil || n == 0 {
		t.Fatalf("terminate: %d connections, %v", n, err)
	}
	// Events published before b listens again are lost (best effort): keep
	// publishing, boundedly, until one arrives. b asks its node to resync
	// (locally only) when it listens again.
	resync := false
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		busA.Publish(events.Event{Kind: "login", Device: fmt.Sprintf("after%d", i)})
		select {
		case e := <-chB:
			if e.Kind == events.KindResync && !e.Remote() {
				resync = true
				continue
			}
			if !strings.HasPrefix(e.Device, "after") || e.Node != "a"+node {
				t.Fatalf("after: %+v", e)
			}
			if !resync {
				t.Fatal("b listened again without asking for a resync first")
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatal("no event crossed within 10 s of the connections being dropped")
}
