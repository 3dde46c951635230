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
