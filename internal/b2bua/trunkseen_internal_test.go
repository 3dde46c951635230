package b2bua

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/settings"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// trunkStore is a settings store with the trunk's source addresses.
type trunkStore struct {
	mu      sync.Mutex
	sources []string
}

func (s *trunkStore) GetSettings(context.Context) (hotdesk.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := hotdesk.DefaultSettings()
	st.Trunk = hotdesk.Trunk{Enabled: true, Sources: s.sources}
	return st, nil
}

func (s *trunkStore) set(sources ...string) {
	s.mu.Lock()
	s.sources = sources
	s.mu.Unlock()
}

// NotFromTrunk (for the read loops, issue 18) answers only from what
// FromTrunk read: before any read, once a settings change reached the
// settings cache, after trunkFresh and while the cache does not follow the
// bus it is unsure (false). The change counts the moment the settings
// cache takes it: the party cache, which used to count them, takes its
// events only before a lookup or on its next tick (it does not run here).
func TestNotFromTrunkOnlyWhenSure(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	store := &trunkStore{}
	store.set("192.0.2.10")
	set := settings.New(store, time.Hour, nil)
	bus := events.New()
	stop := testrun.Go(t, func(ctx context.Context) error { return set.Run(ctx, bus) })
	testrun.Eventually(t, 5*time.Second, "the settings cache follows the bus", func() bool { _, ok := set.Gen(); return ok })
	b := &B2BUA{cache: newPartyCache(), o: Options{Now: func() time.Time { return now },
		Settings: set.Get, SettingsGen: set.Gen}}
	from := func(src string) *sip.Request {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "202", Host: "pbx.test"})
		req.SetSource(src)
		return req
	}
	phone, trunk := from("198.51.100.7:5060"), from("192.0.2.10:5060")
	if b.NotFromTrunk(phone) {
		t.Fatal("sure before FromTrunk read the settings")
	}
	if b.FromTrunk(phone) || !b.FromTrunk(trunk) {
		t.Fatal("FromTrunk")
	}
	if !b.NotFromTrunk(phone) || b.NotFromTrunk(trunk) {
		t.Fatalf("after FromTrunk: phone %v, trunk %v; want true, false", b.NotFromTrunk(phone), b.NotFromTrunk(trunk))
	}
	// A settings change on the bus (the trunk's addresses changed).
	store.set("198.51.100.7")
	gen, _ := set.Gen()
	bus.Publish(events.Event{Kind: hotdesk.KindSettings})
	testrun.Eventually(t, 5*time.Second, "the settings cache takes the change", func() bool { g, _ := set.Gen(); return g != gen })
	if b.NotFromTrunk(phone) {
		t.Fatal("sure after a settings change")
	}
	if !b.FromTrunk(phone) {
		t.Fatal("the new address is not the trunk's")
	}
	if b.NotFromTrunk(phone) || !b.NotFromTrunk(trunk) {
		t.Fatal("the new addresses not applied")
	}
	now = now.Add(trunkFresh)
	if b.NotFromTrunk(trunk) {
		t.Fatal("sure after trunkFresh")
	}
	b.FromTrunk(trunk)
	stop()
	if b.NotFromTrunk(trunk) {
		t.Fatal("sure while nobody follows the bus")
	}
	b.o.SettingsGen = nil
	b.FromTrunk(trunk)
	if b.NotFromTrunk(trunk) {
		t.Fatal("sure without the settings' generation")
	}
}
