package settings

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

type fakeStore struct {
	mu   sync.Mutex
	st   hotdesk.Settings
	fail error
}

func (f *fakeStore) GetSettings(context.Context) (hotdesk.Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, f.fail
}

func (f *fakeStore) set(lang string, fail error) {
	f.mu.Lock()
	f.st.Lang, f.fail = lang, fail
	f.mu.Unlock()
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func TestCacheTTLAndFailures(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{}
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	c := New(st, time.Second, clk.Now)
	// No good copy yet and the store fails: Load says so, Get has defaults.
	st.set("nl", errors.New("db down"))
	if _, err := c.Load(ctx); err == nil {
		t.Fatal("Load hid a store failure")
	}
	if got := c.Get(ctx); got.Lang != hotdesk.DefaultSettings().Lang {
		t.Fatalf("Get without a good copy: %q", got.Lang)
	}
	st.set("nl", nil)
	if got := c.Get(ctx); got.Lang != "nl" {
		t.Fatalf("Get %q, want nl", got.Lang)
	}
	st.set("de", nil)
	if got := c.Get(ctx); got.Lang != "nl" {
		t.Fatalf("within the TTL: %q, want the cached nl", got.Lang)
	}
	clk.t = clk.t.Add(time.Second)
	if got := c.Get(ctx); got.Lang != "de" {
		t.Fatalf("after the TTL: %q, want de", got.Lang)
	}
	// The store fails later: Get keeps the last good copy.
	st.set("fr", errors.New("db down"))
	clk.t = clk.t.Add(time.Second)
	if got := c.Get(ctx); got.Lang != "de" {
		t.Fatalf("store down: %q, want the last good de", got.Lang)
	}
	// A clock going backwards does not keep a copy forever.
	st.set("fr", nil)
	clk.t = clk.t.Add(-time.Hour)
	if got := c.Get(ctx); got.Lang != "fr" {
		t.Fatalf("clock went back: %q, want fr", got.Lang)
	}
}

func TestSettingsChangedInvalidates(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{}
	st.set("nl", nil)
	c := New(st, time.Hour, nil)
	bus := events.New()
	testrun.Go(t, func(ctx context.Context) error { return c.Run(ctx, bus) }) // stopped, and its error checked, at the end
	if got := c.Get(ctx); got.Lang != "nl" {
		t.Fatal(got.Lang)
	}
	st.set("de", nil)
	bus.Publish(events.Event{Kind: hotdesk.KindUserChanged})
	deadline := time.Now().Add(5 * time.Second)
	for c.Get(ctx).Lang != "de" {
		if time.Now().After(deadline) {
			t.Fatal("settings_changed did not drop the cached copy")
		}
		bus.Publish(events.Event{Kind: hotdesk.KindSettings}) // until Run has subscribed
		time.Sleep(5 * time.Millisecond)
	}
}

// blockingStore's reads wait for release once hold is set.
type blockingStore struct {
	fakeStore
	hold    chan struct{} // closed when a read has begun
	release chan struct{}
}

func (b *blockingStore) GetSettings(ctx context.Context) (hotdesk.Settings, error) {
	st, err := b.fakeStore.GetSettings(ctx)
	if b.hold != nil {
		close(b.hold)
		<-b.release
	}
	return st, err
}

// A read in flight when the settings change (Invalidate) is returned but
// not kept: it may be the settings before the change, and would have been
// served as fresh for the whole TTL. The generation moves.
func TestReadDuringChangeNotKept(t *testing.T) {
	ctx := context.Background()
	st := &blockingStore{hold: make(chan struct{}), release: make(chan struct{})}
	st.set("nl", nil)
	c := New(st, time.Hour, nil)
	got := make(chan string)
	go func() { got <- c.Get(ctx).Lang }()
	<-st.hold
	gen, _ := c.Gen()
	st.set("de", nil)
	c.Invalidate()
	if g, _ := c.Gen(); g == gen {
		t.Fatal("Invalidate did not move the generation")
	}
	st.hold = nil
	close(st.release)
	if lang := <-got; lang != "nl" {
		t.Fatalf("the read in flight: %q, want nl", lang)
	}
	if lang := c.Get(ctx).Lang; lang != "de" {
		t.Fatalf("after the change: %q, want de (the read in flight was kept)", lang)
	}
}

// Run moves the generation when a settings change arrives and when
// events were lost (its buffer was full), and says it follows the bus
// only while it runs.
func TestGenFollowsTheBus(t *testing.T) {
	st := &fakeStore{}
	c := New(st, time.Hour, nil)
	if _, ok := c.Gen(); ok {
		t.Fatal("following before Run")
	}
	bus := events.New()
	stop := testrun.Go(t, func(ctx context.Context) error { return c.Run(ctx, bus) })
	testrun.Eventually(t, 5*time.Second, "Run follows the bus", func() bool { _, ok := c.Gen(); return ok })
	gen, _ := c.Gen()
	bus.Publish(events.Event{Kind: hotdesk.KindUserChanged})
	bus.Publish(events.Event{Kind: hotdesk.KindSettings})
	testrun.Eventually(t, 5*time.Second, "the generation moves on settings_changed", func() bool { g, _ := c.Gen(); return g == gen+1 })
	// Run is held in Invalidate (c.mu) by the next change while a call's
	// events, more than its buffer holds, are published: none is queued
	// for it (none dropped), so it is not woken for them (issue 18).
	c.mu.Lock()
	bus.Publish(events.Event{Kind: hotdesk.KindSettings})
	for range runBuffer + 100 {
		bus.Publish(events.Event{Kind: events.KindCallTrying})
	}
	if n := bus.Dropped(); n != 0 {
		t.Fatalf("%d call events dropped for Run: it was handed them", n)
	}
	// Then more changes than its buffer holds: some are dropped, and the
	// bus tells Run with a resync once there is room (one more move than
	// the changes it took).
	for range runBuffer + 2 {
		bus.Publish(events.Event{Kind: hotdesk.KindSettings})
	}
	dropped := bus.Dropped()
	if dropped == 0 {
		t.Fatal("no change dropped")
	}
	c.mu.Unlock()
	want := gen + 2 + uint64(runBuffer+2-dropped) + 1
	testrun.Eventually(t, 5*time.Second, "the generation moves on lost events", func() bool {
		bus.Publish(events.Event{Kind: events.KindCallTrying}) // brings the resync once there is room
		g, _ := c.Gen()
		return g == want
	})
	stop()
	if _, ok := c.Gen(); ok {
		t.Fatal("following after Run returned")
	}
}
