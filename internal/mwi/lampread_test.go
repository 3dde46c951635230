package mwi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// heldStore holds every lamp read until release and counts the reads
// asked for meanwhile.
type heldStore struct {
	*siptest.MemStore
	release chan struct{}

	mu      sync.Mutex
	reads   int
	devices []string
}

func (s *heldStore) VoicemailCounts(context.Context, string) (int, int, error) { return 0, 0, nil }

func (s *heldStore) DeviceMailbox(ctx context.Context, device string) (string, int, int, error) {
	s.mu.Lock()
	s.reads++
	s.devices = append(s.devices, device)
	s.mu.Unlock()
	select {
	case <-s.release:
	case <-ctx.Done():
		return "", 0, 0, ctx.Err()
	}
	return "201", 1, 0, nil
}

func (s *heldStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// waitFor polls cond for up to 10 s (a wait for progress, not a bound on
// its speed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The lamps of phones whose logins came while a lamp read ran are all
// asked of the store at once, each by its device's worker through
// DeviceMailbox, so that the store can read them together (the SQL store
// on SQLite: its reader, one read transaction for the reads queued
// meanwhile); mwi keeps no batching of its own. One read a phone.
func TestLampReadsReachStoreTogether(t *testing.T) {
	store := &heldStore{MemStore: siptest.NewMemStore(), release: make(chan struct{})}
	srv, err := signaling.New(signaling.Options{UDPAddr: "127.0.0.1:0", Hostname: "127.0.0.1", Domain: "test.local", Logger: siptest.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	bus := events.New()
	// A contact this node holds but cannot reach: the NOTIFY fails at once
	// after the lamp is read.
	contacts := func(d string) []hotdesk.Binding { return []hotdesk.Binding{{Device: d, Contact: "<>"}} }
	n, err := New(Options{Store: store, Counts: store, Bus: bus, SIP: srv, Contacts: contacts, Logger: siptest.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	testrun.Background(t, n.Run)

	bus.Publish(events.Event{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00000"})
	waitFor(t, "the first lamp read", func() bool { return store.count() == 1 })
	const queued = 20
	for i := 1; i <= queued; i++ {
		bus.Publish(events.Event{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD0000" + string(rune('a'+i))})
	}
	// Without a release: every read is asked for while the first is held.
	waitFor(t, "the queued lamp reads", func() bool { return store.count() == 1+queued })
	close(store.release)
	waitFor(t, "the workers", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return len(n.workers) == 0
	})
	if c := store.count(); c != 1+queued {
		t.Fatalf("%d lamp reads, want %d", c, 1+queued)
	}
}
