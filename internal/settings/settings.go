// Package settings is the one in-memory copy of the site settings, shared
// by the components that read them on hot paths (desk on every login, b2bua
// on every INVITE, feature for the prompt language and timeouts, presence
// for its caps). A settings change, audited and published as
// settings_changed, drops the copy at once (Run); a short TTL covers changes
// made by other nodes.
package settings

import (
	"context"
	"sync"
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
	c.mu.Unlock()
	st, err := c.store.GetSettings(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		return st, err
	}
	c.cur, c.good, c.at = st, true, now
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

// Invalidate drops the copy so the next use reads the store.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

// Run invalidates the copy on every settings_changed event on bus, until
// ctx is done.
func (c *Cache) Run(ctx context.Context, bus *events.Bus) error {
	ch, cancel := bus.Subscribe(16)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-ch:
			if e.Kind == hotdesk.KindSettings {
				c.Invalidate()
			}
		}
	}
}
