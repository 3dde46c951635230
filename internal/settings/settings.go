// Package settings is the one in-memory copy of the site settings, shared
// by the components that read them on hot paths (desk on every login, b2bua
// on every INVITE, feature for the prompt language and timeouts, presence
// for its caps). A settings change, audited and published as
// settings_changed, drops the copy at once (Run) and moves the cache's
// generation (Gen), which lets a reader that keeps something derived from
// the settings outside the cache (b2bua: the trunk's addresses for the read
// loops) know it is stale; a short TTL covers changes made by other nodes.
package settings

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// DefaultTTL is how long a copy is used without reading the store.
const DefaultTTL = 2 * time.Second

// Store is what the cache needs of the store.
type Store interface {
	GetSettings(ctx context.Context) (hotdesk.Settings, error)
}

// Cache caches the site settings. Safe for concurrent use.
type Cache struct {
	store Store
	ttl   time.Duration
	now   hotdesk.Clock

	// gen is bumped (under mu) by every invalidation; following is set
	// while Run follows the bus (Gen).
	gen       atomic.Uint64
	following atomic.Bool

	mu   sync.Mutex
	cur  hotdesk.Settings
	good bool      // cur was read from the store
	at   time.Time // when cur was read; zero: read again
}

// New returns a cache over store with ttl (<= 0: DefaultTTL) and clock now
// (nil: time.Now).
func New(store Store, ttl time.Duration, now hotdesk.Clock) *Cache {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{store: store, ttl: ttl, now: now}
}

// Load returns the settings, from the copy while it is fresh, else from the
// store; a store failure is returned (the caller decides what it means).
func (c *Cache) Load(ctx context.Context) (hotdesk.Settings, error) {
	now := c.now()
	c.mu.Lock()
	if !c.at.IsZero() && now.Sub(c.at) < c.ttl && !now.Before(c.at) {
		st := c.cur
		c.mu.Unlock()
		return st, nil
	}
	gen := c.gen.Load()
	c.mu.Unlock()
	st, err := c.store.GetSettings(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		return st, err
	}
	if c.gen.Load() == gen {
		// Not kept when invalidated meanwhile: the read may have seen the
		// settings before the change, and would be served as fresh.
		c.cur, c.good, c.at = st, true, now
	}
	return st, nil
}

// Get is Load for callers that must go on: when the store fails it returns
// the last good copy, or the defaults if there never was one.
func (c *Cache) Get(ctx context.Context) hotdesk.Settings {
	st, err := c.Load(ctx)
	if err == nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.good {
		return c.cur
	}
	return hotdesk.DefaultSettings()
}

// Invalidate drops the copy so the next use reads the store, and moves
// the generation.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.gen.Add(1) // after the copy is dropped: a reader seeing the new gen reads the store
	c.mu.Unlock()
}

// Gen returns the cache's generation and whether Run follows the bus.
// The generation moves as soon as Run takes a settings change (or events
// were lost, or Invalidate was called): settings read after Gen returned
// gen are stale once it returns another. While ok is false a change could
// go unseen, so nothing derived from the settings is sure.
func (c *Cache) Gen() (gen uint64, ok bool) {
	return c.gen.Load(), c.following.Load()
}

// runBuffer is Run's subscription: settings changes and resyncs only.
const runBuffer = 1024

// Run invalidates the copy on every settings_changed event on bus, and
// when events were lost (the bus's resync, or the cluster's), until ctx is
// done. It subscribes to those kinds only: a call's events do not wake it
// (issue 18).
func (c *Cache) Run(ctx context.Context, bus *events.Bus) error {
	ch, cancel := bus.SubscribeKinds(runBuffer, func(kind string) bool { return kind == hotdesk.KindSettings })
	defer cancel()
	c.Invalidate() // a change made before the subscription went unseen
	c.following.Store(true)
	defer c.following.Store(false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ch: // a change, or a loss (KindResync)
			c.Invalidate()
		}
	}
}
