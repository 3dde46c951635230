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

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres/pgtest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustBridge(tb testing.TB, node, dsn string, bus *events.Bus) *Bridge {
	tb.Helper()
	b, err := New(Options{DSN: dsn, Node: node, Bus: bus, Logger: quiet(), MaxBackoff: 200 * time.Millisecond, PollInterval: 500 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return b
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

// mustSchema creates a fresh schema, dropped when the test ends, migrates
// it and returns a URL using it and the admin connection.
func mustSchema(tb testing.TB, dsn string) (string, *sql.DB) {
	tb.Helper()
	url, admin := pgtest.MustSchema(tb, dsn)
	mustStore(tb, url, "")
	return url, admin
}

// mustStore opens the store at url as node's.
func mustStore(tb testing.TB, url, node string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	db.SetNode(node)
	tb.Cleanup(func() { db.Close() })
	return db
}

// startBridge runs b until the test ends and waits for it to listen; stop
// ends it sooner and waits for Run to return.
func startBridge(tb testing.TB, b *Bridge) (stop func()) {
	tb.Helper()
	stop = testrun.Go(tb, b.Run)
	select {
	case <-b.Listening():
	case <-time.After(10 * time.Second):
		stop()
		tb.Fatal("bridge never listened")
	}
	return stop
}

// runNode starts node's bridge on a bus of its own and returns what
// arrives on that bus, and a stop.
func runNode(tb testing.TB, node, url string) (<-chan events.Event, func()) {
	tb.Helper()
	bus := events.New()
	ch, unsub := bus.Subscribe(64)
	stop := startBridge(tb, mustBridge(tb, node, url, bus))
	return ch, func() { stop(); unsub() }
}

// next returns the next event on ch, or fails after 5 s.
func next(tb testing.TB, ch <-chan events.Event) events.Event {
	tb.Helper()
	return testrun.Receive(tb, ch, 5*time.Second, "event")
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

// audit commits an audit row through store and publishes it on bus, as
// the desk rules, the API and the console do.
func audit(tb testing.TB, store *postgres.DB, bus *events.Bus, kind, ext, device string) {
	tb.Helper()
	e := &hotdesk.AuditEvent{Kind: kind, Extension: ext, Device: device, Source: "test"}
	if err := store.AppendAudit(context.Background(), e); err != nil {
		tb.Fatal(err)
	}
	bus.Publish(events.Event{Time: e.Time, Kind: e.Kind, Extension: e.Extension, Device: e.Device, Source: e.Source})
}

// TestEventsCrossNodesOnceAndStayInSchema: an audited event committed on
// node a and a call event published there reach node b once, marked with
// a; b does not send them back; a node of another schema hears nothing.
func TestEventsCrossNodesOnceAndStayInSchema(t *testing.T) {
	dsn := testDSN(t)
	url1, _ := mustSchema(t, dsn)
	url2, _ := mustSchema(t, dsn)
	storeA := mustStore(t, url1, "a")
	busA, busB, busC := events.New(), events.New(), events.New()
	startBridge(t, mustBridge(t, "a", url1, busA))
	startBridge(t, mustBridge(t, "b", url1, busB))
	startBridge(t, mustBridge(t, "c", url2, busC))
	chA, cancelA := busA.Subscribe(16)
	defer cancelA()
	chB, cancelB := busB.Subscribe(16)
	defer cancelB()
	chC, cancelC := busC.Subscribe(16)
	defer cancelC()

	start := time.Now()
	audit(t, storeA, busA, hotdesk.KindLogin, "201", "HD00002")
	busA.Publish(events.Event{Kind: events.KindCallTrying, Extension: "201", Device: "HD00002", CallID: "c1", Direction: "initiator", Peer: "202"})
	for range 2 {
		if e := next(t, chA); e.Remote() {
			t.Fatalf("a's own event marked remote: %+v", e)
		}
	}
	e := next(t, chB)
	if e.Kind != "login" || e.Extension != "201" || e.Device != "HD00002" || e.Node != "a" || e.Source != "test" || e.Seq != 1 {
		t.Fatalf("b got %+v", e)
	}
	e = next(t, chB)
	if e.Kind != events.KindCallTrying || e.CallID != "c1" || e.Direction != "initiator" || e.Peer != "202" || e.Node != "a" {
		t.Fatalf("b got %+v", e)
	}
	// Woken by NOTIFY, not by the 500 ms poll.
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Logf("slow crossing: %v (the poll, not the wake-up, carried it?)", d)
	}
	none(t, chA, 1200*time.Millisecond, "a (b must not send a's event back)")
	none(t, chB, 0, "b (once)")
	none(t, chC, 0, "c (other schema)")
}

// TestEventsWithoutWakeUpArrive: a row committed to the log without a
// NOTIFY (the writing node died before sending it) is read on the timer.
func TestEventsWithoutWakeUpArrive(t *testing.T) {
	url, _ := mustSchema(t, testDSN(t))
	store := mustStore(t, url, "gone")
	bus := events.New()
	startBridge(t, mustBridge(t, "b", url, bus))
	ch, cancel := bus.Subscribe(16)
	defer cancel()
	if err := store.AppendAudit(context.Background(), &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD1"}); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); e.Kind != hotdesk.KindLogin || e.Node != "gone" {
		t.Fatalf("got %+v", e)
	}
}

// TestGapWaitsForOpenTransaction: a transaction that drew a lower seq and
// commits after a higher one holds the reader back, so its event is
// applied first and not skipped; a rolled-back seq is passed over.
func TestGapWaitsForOpenTransaction(t *testing.T) {
	ctx := context.Background()
	url, _ := mustSchema(t, testDSN(t))
	store := mustStore(t, url, "a")
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	bus := events.New()
	startBridge(t, mustBridge(t, "b", url, bus))
	ch, cancel := bus.Subscribe(16)
	defer cancel()

	for _, commit := range []bool{true, false} {
		slow, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := slow.Exec(insertSQL, time.Now().UnixNano(), "a", hotdesk.KindLogout, "201", "HD1", "", "", "slow", "", "", ""); err != nil {
			t.Fatal(err)
		}
		if err := store.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "202", Device: "HD2", Detail: "fast"}); err != nil {
			t.Fatal(err)
		}
		none(t, ch, 1500*time.Millisecond, "b while the lower seq is uncommitted")
		if commit {
			if err := slow.Commit(); err != nil {
				t.Fatal(err)
			}
			if e := next(t, ch); e.Detail != "slow" {
				t.Fatalf("first after commit: %+v", e)
			}
		} else if err := slow.Rollback(); err != nil {
			t.Fatal(err)
		}
		if e := next(t, ch); e.Detail != "fast" {
			t.Fatalf("then: %+v", e)
		}
		none(t, ch, 700*time.Millisecond, "b (once)")
	}
}

// TestReconnectLosesNothing: events committed while a node's connections
// are gone (terminated by the server) arrive after it reconnects, in order
// and once; call events published meanwhile on the other node wait in its
// sender and arrive too.
func TestReconnectLosesNothing(t *testing.T) {
	dsn := testDSN(t)
	u, admin := mustSchema(t, dsn)
	node := fmt.Sprintf("r%d", time.Now().UnixNano())
	storeA := mustStore(t, u, "a"+node)
	busA, busB := events.New(), events.New()
	startBridge(t, mustBridge(t, "a"+node, u, busA))
	startBridge(t, mustBridge(t, "b"+node, u, busB))
	chB, cancelB := busB.Subscribe(256)
	defer cancelB()
	audit(t, storeA, busA, hotdesk.KindLogin, "201", "before")
	if e := next(t, chB); e.Device != "before" {
		t.Fatalf("before: %+v", e)
	}
	var n int
	err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name IN ($1, $2)`,
		"hotdesk cluster a"+node, "hotdesk cluster b"+node).Scan(&n)
	if err != nil || n == 0 {
		t.Fatalf("terminate: %d connections, %v", n, err)
	}
	const count = 40
	for i := range count {
		audit(t, storeA, busA, hotdesk.KindLogin, "201", fmt.Sprint("after", i))
		busA.Publish(events.Event{Kind: events.KindCallTerminated, CallID: fmt.Sprint("call", i)})
	}
	logins, calls := 0, 0
	deadline := time.After(15 * time.Second)
	for logins < count || calls < count {
		select {
		case e := <-chB:
			switch e.Kind {
			case hotdesk.KindLogin:
				if e.Device != fmt.Sprint("after", logins) {
					t.Fatalf("login %d: got %+v", logins, e)
				}
				logins++
			case events.KindCallTerminated:
				if e.CallID != fmt.Sprint("call", calls) {
					t.Fatalf("call %d: got %+v", calls, e)
				}
				calls++
			default:
				t.Fatalf("unexpected %+v", e)
			}
		case <-deadline:
			t.Fatalf("after reconnecting: %d of %d logins, %d of %d calls", logins, count, calls, count)
		}
	}
	none(t, chB, time.Second, "b (once)")
}
