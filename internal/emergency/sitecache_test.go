package emergency

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// sitesStore holds sites in memory and counts the reads MovedAt makes.
type sitesStore struct {
	downStore // the rest is not used here
	mu        sync.Mutex
	sites     []*hotdesk.Site
	lists     atomic.Int64
	lookups   atomic.Int64
}

func (m *sitesStore) set(sites ...*hotdesk.Site) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sites = sites
}

func (m *sitesStore) ListSites(context.Context) ([]*hotdesk.Site, error) {
	m.lists.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*hotdesk.Site, len(m.sites))
	for i, s := range m.sites {
		c := *s
		c.Networks, c.Devices = slices.Clone(s.Networks), slices.Clone(s.Devices)
		out[i] = &c
	}
	return out, nil
}

func (m *sitesStore) SiteOfDevice(ctx context.Context, device string) (*hotdesk.Site, error) {
	m.lookups.Add(1)
	sites, _ := m.ListSites(ctx)
	m.lists.Add(-1)
	for _, s := range sites {
		if slices.ContainsFunc(s.Devices, func(d string) bool { return strings.EqualFold(d, device) }) {
			return s, nil
		}
	}
	return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "Device %s belongs to no site.", device)
}

func amsterdam(networks ...string) *hotdesk.Site {
	return &hotdesk.Site{ID: 1, Name: "Amsterdam", Networks: networks, Devices: []string{"HD00001"}}
}

// clock is a settable Now.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func following(s *Service) func() bool {
	return func() bool { s.sites.mu.Lock(); defer s.sites.mu.Unlock(); return s.sites.on }
}
func movedAt(s *Service, src string) bool {
	return s.MovedAt(context.Background(), &hotdesk.Device{ID: "hd00001"}, src)
}

// While Run follows the bus, logins read the sites once, not per login;
// a changed site, a phone moved to another site (device_changed), a
// cluster resync and the TTL each make the next login read them again,
// and the change is seen.
func TestMovedAtCachesSites(t *testing.T) {
	store := &sitesStore{}
	store.set(amsterdam("10.1.0.0/16"))
	bus := events.New()
	clk := newClock()
	s, _ := mustRun(t, Options{Store: store, Bus: bus, Now: clk.now}, hotdesk.DefaultSettings())
	testrun.Eventually(t, 10*time.Second, "Run following the bus", following(s))

	if movedAt(s, "10.1.2.3:5060") || !movedAt(s, "10.9.0.1:5060") || movedAt(s, "10.1.9.9:5060") {
		t.Fatal("verdicts wrong on the cached sites")
	}
	if n, l := store.lists.Load(), store.lookups.Load(); n != 1 || l != 0 {
		t.Fatalf("three logins: %d site lists and %d site lookups, want 1 and 0", n, l)
	}

	// The site gains the network the phone is on.
	store.set(amsterdam("10.1.0.0/16", "10.9.0.0/16"))
	bus.Publish(events.Event{Kind: hotdesk.KindSiteChanged, Reason: "updated"})
	testrun.Eventually(t, 10*time.Second, "the changed site seen", func() bool { return !movedAt(s, "10.9.0.1:5060") })

	// The phone leaves the site: a device change.
	store.set(&hotdesk.Site{ID: 1, Name: "Amsterdam", Networks: []string{"10.1.0.0/16"}, Devices: []string{}})
	bus.Publish(events.Event{Kind: hotdesk.KindDeviceChanged, Device: "HD00001"})
	testrun.Eventually(t, 10*time.Second, "the phone without a site", func() bool { return !movedAt(s, "192.0.2.1:5060") })

	// Back on the site; another node's changes may have been missed.
	store.set(amsterdam("10.1.0.0/16"))
	bus.Publish(events.Event{Kind: events.KindResync})
	testrun.Eventually(t, 10*time.Second, "the site after a resync", func() bool { return movedAt(s, "192.0.2.1:5060") })

	// A change no event told of is seen once the TTL has passed.
	store.set(amsterdam("192.0.2.0/24", "10.1.0.0/16"))
	if !movedAt(s, "192.0.2.1:5060") {
		t.Fatal("a change without an event was seen before the TTL")
	}
	lists := store.lists.Load()
	clk.add(siteCacheTTL + time.Second)
	if movedAt(s, "192.0.2.1:5060") {
		t.Fatal("the change was not seen after the TTL")
	}
	if store.lists.Load() != lists+1 {
		t.Fatalf("%d site lists after the TTL, want one more than %d", store.lists.Load(), lists)
	}
}

// The cache is dropped by the events that may mean a change and when
// Run lost events (the bus's resync); other events keep it.
func TestSiteCacheEvents(t *testing.T) {
	list := func(context.Context) ([]*hotdesk.Site, error) { return []*hotdesk.Site{amsterdam()}, nil }
	now := time.Now()
	for _, tc := range []struct {
		name string
		e    events.Event // taken with the cache loaded
		drop bool
	}{
		{"login", events.Event{Kind: hotdesk.KindLogin}, false},
		{"registered", events.Event{Kind: hotdesk.KindRegistered}, false},
		{"site changed", events.Event{Kind: hotdesk.KindSiteChanged}, true},
		{"device changed", events.Event{Kind: hotdesk.KindDeviceChanged}, true},
		{"resync (events lost)", events.Event{Kind: events.KindResync}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c siteCache
			c.follow(true)
			if site, ok := c.home(context.Background(), now, "HD00001", list); !ok || site == nil {
				t.Fatal("not loaded")
			}
			c.event(tc.e)
			_, cached, _ := c.lookup(now, "hd00001")
			if cached == tc.drop {
				t.Fatalf("cached %v after %s", cached, tc.name)
			}
		})
	}
}

// While one caller loads the sites, the others do not queue behind it:
// they read the phone's site from the store.
func TestSiteCacheLoadDoesNotQueue(t *testing.T) {
	var c siteCache
	c.follow(true)
	started, release := make(chan struct{}), make(chan struct{})
	list := func(context.Context) ([]*hotdesk.Site, error) {
		close(started)
		<-release
		return []*hotdesk.Site{amsterdam()}, nil
	}
	done := make(chan bool)
	go func() { _, ok := c.home(context.Background(), time.Now(), "HD00001", list); done <- ok }()
	<-started
	if _, ok := c.home(context.Background(), time.Now(), "HD00001", list); ok {
		t.Fatal("a second caller was answered from a cache still loading")
	}
	close(release)
	if !<-done {
		t.Fatal("the loading caller got no answer")
	}
	if _, ok, _ := c.lookup(time.Now(), "hd00001"); !ok {
		t.Fatal("the load was not kept")
	}
}

// A load that raced a drop is not kept: the next login reads again.
func TestSiteCacheLoadRacingDrop(t *testing.T) {
	var c siteCache
	c.follow(true)
	list := func(context.Context) ([]*hotdesk.Site, error) {
		c.event(events.Event{Kind: hotdesk.KindSiteChanged}) // a change committed while it read
		return []*hotdesk.Site{amsterdam()}, nil
	}
	if _, ok := c.home(context.Background(), time.Now(), "HD00001", list); !ok {
		t.Fatal("the load's own answer not given")
	}
	if _, cached, _ := c.lookup(time.Now(), "hd00001"); cached {
		t.Fatal("a load that raced a change was kept")
	}
}

// Without Run following the bus nothing is cached: each login reads the
// phone's site and sees a change at once.
func TestMovedAtWithoutBusReadsEachTime(t *testing.T) {
	store := &sitesStore{}
	store.set(amsterdam("10.1.0.0/16"))
	s := New(Options{Store: store})
	if !movedAt(s, "10.9.0.1:5060") {
		t.Fatal("not moved")
	}
	store.set(amsterdam("10.9.0.0/16"))
	if movedAt(s, "10.9.0.1:5060") {
		t.Fatal("the changed site not seen")
	}
	if n, l := store.lists.Load(), store.lookups.Load(); n != 0 || l != 2 {
		t.Fatalf("%d site lists and %d site lookups, want 0 and 2", n, l)
	}
}

// auditingSitesStore records audit rows.
type auditingSitesStore struct {
	sitesStore
	mu     sync.Mutex
	audits []hotdesk.AuditEvent
}

func (a *auditingSitesStore) AppendAudit(_ context.Context, e *hotdesk.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.audits = append(a.audits, *e)
	return nil
}

func (a *auditingSitesStore) moved() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.audits {
		if e.Kind == hotdesk.KindPhoneMoved {
			n++
		}
	}
	return n
}

// A phone registering off its site's networks is flagged with its site
// taken from the cache (no lookup per registration), and a site change
// published before a registration is seen by it.
func TestRegistrationMovedCheckUsesCache(t *testing.T) {
	store := &auditingSitesStore{}
	store.set(amsterdam("10.1.0.0/16"))
	bus := events.New()
	s, _ := mustRun(t, Options{Store: store, Bus: bus}, hotdesk.DefaultSettings())
	testrun.Eventually(t, 10*time.Second, "Run following the bus", following(s))
	bus.Publish(events.Event{Kind: hotdesk.KindRegistered, Device: "HD00001", Source: "10.9.0.1:5060"})
	testrun.Eventually(t, 10*time.Second, "phone_moved audited", func() bool { return store.moved() == 1 })

	// The site takes in that network; the phone registers from a third.
	store.set(amsterdam("10.1.0.0/16", "10.9.0.0/16"))
	bus.Publish(events.Event{Kind: hotdesk.KindSiteChanged})
	bus.Publish(events.Event{Kind: hotdesk.KindRegistered, Device: "HD00001", Source: "10.9.0.1:5060"})
	bus.Publish(events.Event{Kind: hotdesk.KindRegistered, Device: "HD00001", Source: "10.7.0.1:5060"})
	testrun.Eventually(t, 10*time.Second, "the second phone_moved", func() bool { return store.moved() == 2 })
	if l := store.lookups.Load(); l != 0 {
		t.Fatalf("%d site lookups for registrations, want 0 (the cache)", l)
	}
}
