package console

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// pipelineTimeout is how long a step of the login pipeline may stay
// pending before it shows as failed: phones re-provision within seconds
// of a check-sync; one that has not after a minute and a half did not
// take the new identity.
const pipelineTimeout = 90 * time.Second

// Step states.
const (
	stepDone    = "done"
	stepPending = "pending"
	stepFailed  = "failed"
	stepSkipped = "skipped" // does not apply (no BLF keys, a neutral phone)
)

// pipeline is what happened to one phone since its last login or logout
// (or an admin's retry): the steps that show whether the phone took the
// new identity (issue 17 item 8). Times are when the console heard of
// each step; a zero time is "not yet".
type pipeline struct {
	Started    time.Time
	Extension  string // the user logged in; "" after a logout (neutral)
	CheckSync  time.Time
	SyncError  string // why the last check-sync failed
	Fetched    time.Time
	Registered time.Time
	Subscribed time.Time
}

// pipeStep is one stage as the desks page shows it.
type pipeStep struct {
	Name, State, Title string
}

// pipeView is a pipeline judged at a moment.
type pipeView struct {
	Steps     []pipeStep
	State     string // done, pending or failed
	Extension string
	Started   time.Time
}

// view judges p at now. registered says whether the phone has a live
// contact now (a phone keeps its SIP account across hot-desk logins, so it
// need not register again: a fetch while registered is enough); blf says
// whether the logged-in user has BLF keys to subscribe to.
func (p *pipeline) view(now time.Time, registered, blf bool) *pipeView {
	late := now.Sub(p.Started) > pipelineTimeout
	state := func(at time.Time, failed bool) string {
		switch {
		case !at.IsZero():
			return stepDone
		case failed || late:
			return stepFailed
		}
		return stepPending
	}
	v := &pipeView{Extension: p.Extension, Started: p.Started}
	sync := pipeStep{Name: "check-sync sent", State: state(p.CheckSync, p.SyncError != "" && p.CheckSync.IsZero())}
	if sync.State == stepFailed {
		sync.Title = p.SyncError
		if sync.Title == "" {
			sync.Title = "No registered contact answered the NOTIFY."
		}
	}
	reg := p.Registered
	if reg.IsZero() && registered && !p.Fetched.IsZero() {
		reg = p.Fetched
	}
	v.Steps = []pipeStep{sync,
		{Name: "config fetched", State: state(p.Fetched, false)},
		{Name: "registered", State: state(reg, false)},
	}
	blfStep := pipeStep{Name: "BLF subscribed", State: state(p.Subscribed, false)}
	if p.Extension == "" || !blf {
		blfStep.State, blfStep.Title = stepSkipped, "No BLF keys to subscribe to."
	}
	v.Steps = append(v.Steps, blfStep)
	v.State = stepDone
	for _, s := range v.Steps {
		switch s.State {
		case stepFailed:
			v.State = stepFailed
		case stepPending:
			if v.State != stepFailed {
				v.State = stepPending
			}
		}
	}
	return v
}

// phoneTracker follows, per device, the last configuration fetch and the
// pipeline of the latest login, logout or retry, from the bus (in Seq
// order: a copy seen twice is ignored). It lives in memory, so a browser
// refresh shows the same state; after a restart the fetch times are read
// back from the audit trail. Safe for concurrent use.
type phoneTracker struct {
	now func() time.Time

	mu      sync.Mutex
	fetched map[string]time.Time
	pipes   map[string]*pipeline
	seq     int64
	seeded  bool
}

func newPhoneTracker(now func() time.Time) *phoneTracker {
	return &phoneTracker{now: now, fetched: map[string]time.Time{}, pipes: map[string]*pipeline{}}
}

// apply records e if it is a step of some phone's pipeline. Other kinds
// (a call's six to eight events) return before the lock, and do not move
// the Seq on: a login published concurrently with a call's event, and
// handed to apply after it with a lower Seq, is not taken for an old copy.
func (t *phoneTracker) apply(e events.Event) {
	if e.Device == "" || !pipelineKind(e.Kind) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.Seq != 0 {
		if e.Seq <= t.seq {
			return
		}
		t.seq = e.Seq
	}
	now := t.now()
	p := t.pipes[e.Device]
	switch e.Kind {
	case hotdesk.KindLogin:
		t.pipes[e.Device] = &pipeline{Started: now, Extension: e.Extension}
	case hotdesk.KindLogout:
		t.pipes[e.Device] = &pipeline{Started: now}
	case hotdesk.KindProvisionFetch:
		t.fetched[e.Device] = now
		if p != nil && p.Fetched.IsZero() {
			p.Fetched = now
		}
	case events.KindCheckSync:
		if p != nil && p.CheckSync.IsZero() {
			p.CheckSync, p.SyncError = now, ""
		}
	case events.KindCheckSyncFailed:
		if p != nil && p.CheckSync.IsZero() {
			p.SyncError = e.Detail
		}
	case hotdesk.KindRegistered:
		if p != nil && p.Registered.IsZero() {
			p.Registered = now
		}
	case events.KindSubscribed:
		if p != nil && p.Subscribed.IsZero() {
			p.Subscribed = now
		}
	}
}

// pipelineKind reports whether events of kind are a step apply records.
func pipelineKind(kind string) bool {
	switch kind {
	case hotdesk.KindLogin, hotdesk.KindLogout, hotdesk.KindProvisionFetch, events.KindCheckSync,
		events.KindCheckSyncFailed, hotdesk.KindRegistered, events.KindSubscribed:
		return true
	}
	return false
}

// restart begins device's pipeline again (an admin's retry), for the user
// logged in there now ("" if none).
func (t *phoneTracker) restart(device, ext string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pipes[device] = &pipeline{Started: t.now(), Extension: ext}
}

// get returns a copy of device's pipeline (nil if none) and its last
// configuration fetch.
func (t *phoneTracker) get(device string) (*pipeline, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var cp *pipeline
	if p := t.pipes[device]; p != nil {
		c := *p
		cp = &c
	}
	return cp, t.fetched[device]
}

// fetchSeedLimit bounds the audit rows read back at start.
const fetchSeedLimit = 20000

// seed reads the last configuration fetch of each phone from the audit
// trail, once (again after a failure); fetches heard on the bus since are
// newer and win.
func (t *phoneTracker) seed(ctx context.Context, store interface {
	FindAudit(ctx context.Context, f hotdesk.AuditFilter) ([]*hotdesk.AuditEvent, error)
}) error {
	t.mu.Lock()
	done := t.seeded
	t.mu.Unlock()
	if done {
		return nil
	}
	evs, err := store.FindAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindProvisionFetch}, Limit: fetchSeedLimit})
	if err != nil {
		return fmt.Errorf("read provisioning fetches: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range evs { // newest first
		if _, ok := t.fetched[e.Device]; !ok && e.Device != "" {
			t.fetched[e.Device] = e.Time
		}
	}
	t.seeded = true
	return nil
}
