package b2bua

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// partyCache keeps the parties of calls in memory so that routing an
// INVITE does not read the database (issue 18: the one InviteLookup per
// INVITE cost 100–200 µs of CPU under load, SQLite re-reading its pages
// after every write): the user a calling phone's calls belong to, and the
// called user with the phone they are logged in on and their personal
// phones. It is kept current from the event bus the way the registrar
// keeps device credentials: a login or logout drops the entries of its
// phone and user, any other change of users or devices (user_changed,
// device_changed, locks, a CSV import, an event of a kind it does not
// know) and lost events (the bus's resync, or the cluster's) drop every
// entry. Other nodes' changes arrive on the bus too
// (internal/cluster). Entries also expire after ttl, in case a change
// went without an event (an audit row that could not be written).
//
// The bus applies the events in Publish (events.Bus.Handle), under mu: a
// lookup made after a change was published cannot miss it, and no
// goroutine wakes for them (before, a subscription drained by the lookups
// and by a ticker every 20 ms; issue 18, eighth pass). Nothing is cached
// while nobody watches the bus.
type partyCache struct {
	ttl     time.Duration
	fetches atomic.Int64 // lookups that went to the store (tests)

	mu       sync.Mutex
	watching bool                   // false: nothing cached
	gen      uint64                 // bumped by every invalidation (see put)
	atDevice map[string]callerEntry // hot desk phone → the user logged in on it (nil: neutral)
	owners   map[string]callerEntry // personal phone's owner → that user (nil: none)
	callees  map[string]calleeEntry // extension → the user and where they are
}

type callerEntry struct {
	user *hotdesk.User
	at   time.Time
}

type calleeEntry struct {
	c  *called
	at time.Time
}

// Cache sizes and timing.
const (
	partiesTTL       = time.Minute
	maxCachedParties = 100_000 // per map; a full map is emptied
)

func newPartyCache() *partyCache {
	return &partyCache{ttl: partiesTTL, atDevice: map[string]callerEntry{}, owners: map[string]callerEntry{},
		callees: map[string]calleeEntry{}}
}

// watch keeps the cache current from bus until ctx is done.
func (p *partyCache) watch(ctx context.Context, bus *events.Bus) {
	defer p.follow(bus)()
	<-ctx.Done()
}

// follow has the bus apply its events to the cache (those of the kinds
// partiesIgnore names are the frequent ones, calls and registrations, and
// cost a kind check), and returns the function that ends that.
func (p *partyCache) follow(bus *events.Bus) (stop func()) {
	cancel := bus.Handle(p.apply)
	p.mu.Lock()
	p.watching = true
	p.clearLocked() // what was cached before no event could reach us
	p.mu.Unlock()
	return func() {
		cancel()
		p.mu.Lock()
		p.watching = false
		p.clearLocked()
		p.mu.Unlock()
	}
}

// apply drops what event e may have changed (in the bus's Publish).
func (p *partyCache) apply(e events.Event) {
	if partiesIgnore(e.Kind) {
		return
	}
	p.mu.Lock()
	p.applyLocked(e)
	p.mu.Unlock()
}

// applyLocked drops what event e may have changed.
func (p *partyCache) applyLocked(e events.Event) {
	switch e.Kind {
	case hotdesk.KindLogin, hotdesk.KindLogout:
		if e.Device == "" || e.Extension == "" {
			p.clearLocked()
			return
		}
		delete(p.atDevice, e.Device)
		delete(p.callees, e.Extension)
		p.gen++ // a read in flight may have seen the state before the change
	default:
		if !partiesIgnore(e.Kind) {
			p.clearLocked()
		}
	}
}

// partiesIgnore reports whether events of kind change nothing the cache
// keeps (the frequent ones: calls, registrations, failed logins; and
// settings and sites, which are not parties). Any other kind empties it.
func partiesIgnore(kind string) bool {
	if strings.HasPrefix(kind, "call_") {
		return true
	}
	switch kind {
	case hotdesk.KindRegistered, hotdesk.KindUnregistered, hotdesk.KindLoginFailed,
		hotdesk.KindAuthFailed, hotdesk.KindAuthBlocked, hotdesk.KindAuthDeviceBlocked,
		hotdesk.KindProvisionFetch, hotdesk.KindAdminSignIn, hotdesk.KindSettings,
		hotdesk.KindEmergency, hotdesk.KindEmergencyAck, hotdesk.KindEmergencyAlertFailed,
		hotdesk.KindSiteChanged, hotdesk.KindPhoneMoved, hotdesk.KindVoicemail,
		events.KindCheckSync, events.KindCheckSyncFailed, events.KindSubscribed:
		return true
	}
	return false
}

func (p *partyCache) clearLocked() {
	clear(p.atDevice)
	clear(p.owners)
	clear(p.callees)
	p.gen++
}

// callerMap is where dev's caller is kept: the map and its key.
func (p *partyCache) callerMap(dev *hotdesk.Device) (map[string]callerEntry, string) {
	if dev.Mode == hotdesk.ModePersonal {
		return p.owners, dev.Owner
	}
	return p.atDevice, dev.ID
}

// get returns what is cached for dev's caller and, when ext is not "", the
// callee ext, with whether each was found, and the generation to hand to
// put with what is read instead.
func (p *partyCache) get(dev *hotdesk.Device, ext string, now time.Time) (caller *hotdesk.User, haveCaller bool, callee *called, haveCallee bool, gen uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.watching {
		return nil, false, nil, false, p.gen
	}
	m, key := p.callerMap(dev)
	if e, ok := m[key]; ok && now.Sub(e.at) < p.ttl {
		caller, haveCaller = e.user, true
	}
	if ext != "" {
		if e, ok := p.callees[ext]; ok && now.Sub(e.at) < p.ttl {
			callee, haveCallee = e.c, true
		}
	}
	return caller, haveCaller, callee, haveCallee, p.gen
}

// put keeps what was read from the store since get returned gen: the
// caller when setCaller, the callee when not nil (a callee not found is
// not kept: a user created without an event must be found at once). What
// an event may have changed meanwhile is used for this call only.
func (p *partyCache) put(gen uint64, dev *hotdesk.Device, setCaller bool, caller *hotdesk.User, ext string, callee *called, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.watching || p.gen != gen {
		return
	}
	if setCaller {
		m, key := p.callerMap(dev)
		if len(m) >= maxCachedParties {
			clear(m)
		}
		m[strings.Clone(key)] = callerEntry{user: caller, at: now}
	}
	if callee != nil {
		if len(p.callees) >= maxCachedParties {
			clear(p.callees)
		}
		p.callees[strings.Clone(ext)] = calleeEntry{c: callee, at: now}
	}
}
