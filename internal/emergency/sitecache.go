package emergency

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// siteCacheTTL bounds how long the cached sites are trusted without an
// event: a backstop for a change no event told of (another process on the
// same database file). Changes made through this PBX, or another node of
// it, arrive as events and drop the cache at once.
const siteCacheTTL = 30 * time.Second

// siteCache is every site with its devices as last read, for the check
// each login makes before its 200 OK (MovedAt) and each registration
// (checkMoved): reading them per login was three queries, and under load
// their timeouts. It is used only while Run follows the bus, which drops
// it on a site or device change and on a cluster resync, and when Run
// lost events (the bus drops what a full subscriber cannot take, and a
// dropped event may have been a change), told by the bus's resync as the
// B2BUA's party cache is told.
// Emergency calls do not use it: Locate reads the store each time.
type siteCache struct {
	load sync.Mutex // one reload at a time; the others read the store meanwhile

	mu     sync.Mutex
	on     bool                     // Run follows the bus
	gen    uint64                   // bumped by every drop
	byDev  map[string]*hotdesk.Site // lower-case device id → its site; nil: not loaded
	loaded time.Time
}

// follow marks the cache usable (on) or not, and drops it.
func (c *siteCache) follow(on bool) {
	c.mu.Lock()
	c.on = on
	c.dropLocked()
	c.mu.Unlock()
}

func (c *siteCache) dropLocked() {
	c.gen++
	c.byDev = nil
}

// event drops the cache when e, taken by Run, may mean the sites changed
// or events were lost.
func (c *siteCache) event(e events.Event) {
	if siteChange(e.Kind) {
		c.mu.Lock()
		c.dropLocked()
		c.mu.Unlock()
	}
}

// siteChange reports whether events of kind may mean the sites or the
// devices' sites changed (KindResync: events were lost).
func siteChange(kind string) bool {
	return kind == hotdesk.KindSiteChanged || kind == hotdesk.KindDeviceChanged || kind == events.KindResync
}

// home returns dev's site (nil: none) from the cache, loading it with
// list when needed; ok is false when the cache is not in use, could not be
// loaded, or another caller is loading it (the caller then reads the
// store itself rather than queue behind the load).
func (c *siteCache) home(ctx context.Context, now time.Time, device string,
	list func(ctx context.Context) ([]*hotdesk.Site, error)) (site *hotdesk.Site, ok bool) {
	key := strings.ToLower(device)
	if site, ok, usable := c.lookup(now, key); ok || !usable {
		return site, ok
	}
	if !c.load.TryLock() {
		return nil, false
	}
	defer c.load.Unlock()
	if site, ok, usable := c.lookup(now, key); ok || !usable {
		return site, ok // loaded meanwhile
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	sites, err := list(ctx)
	if err != nil {
		return nil, false
	}
	byDev := make(map[string]*hotdesk.Site)
	for _, s := range sites {
		for _, d := range s.Devices {
			byDev[strings.ToLower(d)] = s
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen && c.on {
		// Nothing dropped it while it was read: what was read may be
		// older than a change only if that change's event is still to come.
		c.byDev, c.loaded = byDev, now
	}
	return byDev[key], true
}

// lookup answers from the cache: ok when loaded and current, usable when
// the cache is in use at all.
func (c *siteCache) lookup(now time.Time, key string) (site *hotdesk.Site, ok, usable bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return nil, false, false
	}
	if c.byDev == nil || now.Sub(c.loaded) > siteCacheTTL || now.Before(c.loaded) {
		return nil, false, true
	}
	return c.byDev[key], true, true
}

// homeSite is dev's site for MovedAt and checkMoved: from the cache while
// Run follows the bus, else (or when the sites cannot be listed, or are
// being listed by another caller) read from the store.
func (s *Service) homeSite(ctx context.Context, device string) (*hotdesk.Site, error) {
	if site, ok := s.sites.home(ctx, s.o.Now(), device, s.o.Store.ListSites); ok {
		return site, nil
	}
	site, err := s.o.Store.SiteOfDevice(ctx, device)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return nil, nil
	}
	return site, err
}
