package mwi

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// batchStore answers lamp reads in batches, the first held until release,
// and records each batch; single reads are counted.
type batchStore struct {
	*siptest.MemStore
	release chan struct{}

	mu      sync.Mutex
	batches [][]string
	single  int
}

func (s *batchStore) VoicemailCounts(context.Context, string) (int, int, error) { return 0, 0, nil }

func (s *batchStore) DeviceMailbox(context.Context, string) (string, int, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.single++
	return "", 0, 0, nil
}

func (s *batchStore) DeviceMailboxes(ctx context.Context, devices []string, each func(int, string, int, int)) error {
	s.mu.Lock()
	s.batches = append(s.batches, slices.Clone(devices))
	first := len(s.batches) == 1
	s.mu.Unlock()
	if first {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i := range devices {
		each(i, "201", 1, 0)
	}
	return nil
}

func (s *batchStore) read() (batches [][]string, devices, single int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		devices += len(b)
	}
	return slices.Clone(s.batches), devices, s.single
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

// The lamps of phones whose logins came while a lamp read ran are read
// together afterwards, in one store call on Run's reader goroutine, not
// each in a read (and a goroutine's stack) of its own.
func TestLampReadsBatched(t *testing.T) {
	store := &batchStore{MemStore: siptest.NewMemStore(), release: make(chan struct{})}
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
	waitFor(t, "the first lamp read", func() bool { b, _, _ := store.read(); return len(b) == 1 })
	const queued = 20
	for i := 1; i <= queued; i++ {
		bus.Publish(events.Event{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD0000" + string(rune('a'+i))})
	}
	waitFor(t, "the lamp reads to queue", func() bool { return len(n.reads) == queued })
	close(store.release)
	waitFor(t, "every lamp read", func() bool { _, d, _ := store.read(); return d == 1+queued })

	batches, _, single := store.read()
	if len(batches) != 2 || len(batches[1]) != queued || single != 0 {
		t.Fatalf("%d batches (%v) and %d single reads, want the first and one of the %d queued, none single",
			len(batches), batches, single, queued)
	}
}
