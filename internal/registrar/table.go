package registrar

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// The live binding table is the source of truth while the process runs; the
// store is written behind it in group commits (at most every FlushInterval,
// at once when a new device registers) so a refresh costs no disk flush.

func (r *Registrar) markPutLocked(b hotdesk.Binding) {
	k := bindingKey{b.Device, b.Contact}
	delete(r.dels, k)
	delete(r.later, k)
	r.puts[k] = b
}

func (r *Registrar) markDeleteLocked(b hotdesk.Binding) {
	k := bindingKey{b.Device, b.Contact}
	delete(r.puts, k)
	delete(r.later, k)
	r.dels[k] = b
}

// markRefreshLocked queues b, a refresh of old, to be written. A refresh
// that changes nothing but Call-ID, CSeq, expiry and time is written
// within RefreshWriteDelay rather than at the next flush (a phone that
// re-registers every few seconds cost a row write per second each, issue
// 18) when the row already stored outlives the phone's next refresh by a
// margin: a crash before the write then loses nothing, since the phone
// refreshes again before the stored row expires. Anything else, and a
// binding not yet stored, is written at the next flush.
func (r *Registrar) markRefreshLocked(old, b hotdesk.Binding, now time.Time) {
	k := bindingKey{b.Device, b.Contact}
	if _, pending := r.puts[k]; pending {
		r.puts[k] = b
		return
	}
	stored := old.Expires
	if p, ok := r.later[k]; ok {
		stored = p.stored
	}
	same := old
	same.CallID, same.CSeq, same.Expires, same.Updated = b.CallID, b.CSeq, b.Expires, b.Updated
	period := now.Sub(old.Updated) // how often this phone refreshes
	if same != b || !stored.After(now.Add(period+2*r.opts.RefreshWriteDelay)) {
		r.markPutLocked(b)
		return
	}
	r.later[k] = laterPut{b: b, stored: stored}
}

// laterPut is a refresh written within RefreshWriteDelay, and the expiry
// of the row stored meanwhile.
type laterPut struct {
	b      hotdesk.Binding
	stored time.Time
}

// setLocked makes live the device's bindings. One binding is kept in a
// slot (see slots), the device's own when it has one already: a refresh
// writes over its binding where it lies. The key is the bindings' own
// Device string (packStrings).
func (r *Registrar) setLocked(device string, live []hotdesk.Binding) {
	for _, b := range live {
		r.sweepAt.lower(b.Expires)
	}
	old := r.devices[device]
	switch {
	case len(live) == 0:
		r.slots.put(old)
		delete(r.devices, device)
	case len(live) == 1 && cap(old) == 1:
		old[0] = live[0]
	case len(live) == 1:
		s := r.slots.get()
		s[0] = live[0]
		r.slots.put(old)
		r.devices[live[0].Device] = s
	default:
		r.slots.put(old)
		r.devices[live[0].Device] = live
	}
}

// sweepDue is when a sweep must next walk what it holds (the binding
// table, the credential cache): at or before the earliest expiry in it,
// zero while nothing can expire.
type sweepDue struct{ at time.Time }

// lower makes the walk due by t at the latest.
func (d *sweepDue) lower(t time.Time) {
	if d.at.IsZero() || t.Before(d.at) {
		d.at = t
	}
}

// take reports whether a walk is due at now; if so it starts over, for
// the walk to lower it again with what it keeps.
func (d *sweepDue) take(now time.Time) bool {
	if d.at.IsZero() || now.Before(d.at) {
		return false
	}
	d.at = time.Time{}
	return true
}

// liveLocked returns a copy of the device's unexpired bindings, dropping the
// expired ones from the table first.
func (r *Registrar) liveLocked(device string, now time.Time) []hotdesk.Binding {
	r.expireLocked(device, now)
	// No spare capacity: the slice goes back into the table, where a
	// spare binding per device cost ~200 bytes each (a new contact's
	// append reallocates, rarely).
	return slices.Clone(r.devices[device])
}

// expireLocked removes the device's expired bindings, and audits and
// publishes the device's unregistration when none is left.
func (r *Registrar) expireLocked(device string, now time.Time) {
	bs := r.devices[device]
	kept := bs[:0]
	var last hotdesk.Binding
	for _, b := range bs {
		if b.Expires.After(now) {
			kept = append(kept, b)
			continue
		}
		r.markDeleteLocked(b)
		last = b
	}
	if len(kept) == len(bs) {
		return
	}
	clear(bs[len(kept):])
	r.setLocked(device, kept)
	if len(kept) == 0 {
		const detail = "registration expired"
		r.audits = append(r.audits, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindUnregistered,
			Device: device, Source: last.Source, Reason: "expired", Detail: detail})
		r.publish(hotdesk.KindUnregistered, device, last.Source, detail, now)
	}
}

// sweep expires bindings across the table and forgets stale nonce counts,
// limiter entries and cached credentials. The table is walked only once
// its earliest expiry may have come (sweepAt): a walk of 10,000 bindings
// every FlushInterval held the lock ~7 ms each time on a busy box, and
// phones refresh before their bindings expire (issue 18).
func (r *Registrar) sweep(now time.Time) {
	r.mu.Lock()
	if r.sweepAt.take(now) {
		r.sweeps++
		for device, bs := range r.devices {
			for _, b := range bs {
				if !b.Expires.After(now) {
					r.expireLocked(device, now)
					break
				}
			}
			for _, b := range r.devices[device] {
				r.sweepAt.lower(b.Expires)
			}
		}
	}
	r.mu.Unlock()
	r.limiter.Sweep(now)
	r.devLimiter.Sweep(now)
	r.secrets.sweep(now)
}

// Load restores the unexpired bindings of this node (all nodes' when Node is
// empty) from the store; call it once before serving. The node's rows that
// expired while it was down are deleted, and each device left without a
// binding of this node is audited and (when Run starts) published as
// unregistered.
func (r *Registrar) Load(ctx context.Context) error {
	now := r.now()
	gone, err := r.opts.Store.DeleteExpiredBindings(ctx, r.opts.Node, now)
	if err != nil {
		return fmt.Errorf("registrar load: %w", err)
	}
	bs, err := r.opts.Store.ListBindings(ctx, now)
	if err != nil {
		return fmt.Errorf("registrar load: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range bs {
		if r.opts.Node != "" && b.Node != "" && b.Node != r.opts.Node {
			continue
		}
		r.setLocked(b.Device, append(slices.Clone(r.devices[b.Device]), b))
		n++
	}
	const detail = "registration expired while the node was down"
	seen := map[string]bool{}
	for _, b := range gone {
		if b.Stale || seen[b.Device] || len(r.devices[b.Device]) > 0 {
			continue // stale rows were audited when marked
		}
		seen[b.Device] = true
		r.audits = append(r.audits, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindUnregistered,
			Device: b.Device, Source: b.Source, Reason: "expired", Detail: detail})
		r.loaded = append(r.loaded, events.Event{Kind: hotdesk.KindUnregistered, Device: b.Device, Source: b.Source,
			Reason: "expired", Detail: detail, Time: now})
	}
	r.log.Info("sip bindings restored", "bindings", n, "devices", len(r.devices), "expired_meanwhile", len(seen))
	return nil
}

// Rewrite queues every live binding of this node to be written again (the
// other nodes may have marked them stale while this node was cut off).
func (r *Registrar) Rewrite() {
	r.mu.Lock()
	for _, bs := range r.devices {
		for _, b := range bs {
			if _, gone := r.dels[bindingKey{b.Device, b.Contact}]; !gone {
				r.markPutLocked(b)
			}
		}
	}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Drop forgets bindings without writing anything: their rows are gone
// (the phone registered with another node while this one was cut off).
func (r *Registrar) Drop(bs []hotdesk.Binding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range bs {
		delete(r.puts, bindingKey{b.Device, b.Contact})
		delete(r.later, bindingKey{b.Device, b.Contact})
		var kept []hotdesk.Binding
		for _, x := range r.devices[b.Device] {
			if x.Contact != b.Contact {
				kept = append(kept, x)
			}
		}
		r.setLocked(b.Device, kept)
	}
}

// Run writes changed bindings to the store in group commits and sweeps
// expired bindings until ctx is done; then it writes what is left.
func (r *Registrar) Run(ctx context.Context) error {
	t := time.NewTicker(r.opts.FlushInterval)
	defer t.Stop()
	// Keep-alives to phones behind NAT, every KeepAlive (looked at again
	// each round; while off, every keepaliveRecheck).
	ka := time.NewTimer(r.nextKeepalive())
	defer ka.Stop()
	lastKA := time.Now()
	lastLater := time.Now()
	var kaWG sync.WaitGroup
	defer kaWG.Wait()
	kaSem := make(chan struct{}, keepaliveInFlight)
	lctx, stopLookups := context.WithCancel(ctx)
	lookupsDone := make(chan struct{})
	go func() { defer close(lookupsDone); r.secrets.pool.serve(lctx, 0, r.secrets.find) }()
	defer func() { stopLookups(); <-lookupsDone }()
	if r.opts.Bus != nil {
		wctx, stop := context.WithCancel(ctx)
		watched := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); r.secrets.watch(wctx, r.opts.Bus, watched) }()
		defer func() { stop(); <-done }()
		<-watched
		r.mu.Lock()
		loaded := r.loaded
		r.loaded = nil
		r.mu.Unlock()
		for _, e := range loaded {
			r.opts.Bus.Publish(e)
		}
	}
	var gather <-chan time.Time // set while a group commit gathers (see kick)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := r.flush(fctx); err != nil {
				return fmt.Errorf("registrar final flush: %w", err)
			}
			return nil
		case <-t.C:
			r.sweep(r.now())
			later := time.Since(lastLater) >= r.opts.RefreshWriteDelay
			if later {
				lastLater = time.Now()
			}
			r.flushDue(ctx, later)
		case <-r.kick:
			// A group commit asked for (a first binding waits for it)
			// waits CommitGather for more: its fixed cost, a transaction
			// and its sync to disk (on a SQLite file one binding alone
			// cost 492 µs of CPU, four 195 µs each;
			// bench/register/flushcost), is shared by the first
			// registrations that trickle in meanwhile (2,000/s over UDP
			// on a busy box: the commit 175 µs per first registration
			// without the wait, 55 µs with it; issue 18). The 200s wait
			// as long.
			if r.opts.CommitGather > 0 {
				if gather == nil {
					gather = r.opts.after(r.opts.CommitGather)
				}
				continue
			}
			r.flushDue(ctx, false)
		case <-gather:
			gather = nil
			r.flushDue(ctx, false)
		case <-ka.C:
			if d := r.keepaliveInterval(); d > 0 && time.Since(lastKA) >= d-d/10 {
				r.keepalives(ctx, &kaWG, kaSem)
				lastKA = time.Now()
			}
			ka.Reset(r.nextKeepalive())
		}
	}
}

// flush writes every pending change, deferred refreshes included.
func (r *Registrar) flush(ctx context.Context) error { return r.flushDue(ctx, true) }

// flushDue writes every pending change in one go (the deferred refreshes
// too when later is set) and answers the REGISTERs waiting for it. On
// failure the changes are queued again (unless newer ones replaced them)
// and the waiters get the error.
func (r *Registrar) flushDue(ctx context.Context, later bool) error {
	r.mu.Lock()
	puts, dels, audits, waiters := r.puts, r.dels, r.audits, r.waiters
	if later && len(r.later) > 0 {
		for k, p := range r.later {
			puts[k] = p.b
		}
		r.later = make(map[bindingKey]laterPut)
	}
	if len(puts) == 0 && len(dels) == 0 && len(audits) == 0 && len(waiters) == 0 {
		r.mu.Unlock()
		return nil
	}
	// Not sized after the last batch: an empty map sized for 10,000
	// bindings kept ~3 MB between flushes (issue 18).
	r.puts = make(map[bindingKey]hotdesk.Binding)
	r.dels = make(map[bindingKey]hotdesk.Binding)
	r.audits, r.waiters = nil, nil
	r.mu.Unlock()

	err := r.write(ctx, puts, dels, audits)
	if err != nil {
		r.log.Error("sip bindings: write to store", "puts", len(puts), "deletes", len(dels), "error", err)
		r.requeue(puts, dels, audits)
	}
	for _, w := range waiters {
		w.complete(err)
	}
	return err
}

// write stores a group commit: in one transaction when the store's Tx
// writes bindings (hotdesk.BindingTxStore, asked once by New; the SQL
// stores), else the bindings, the deletions and the audit events in one
// transaction each. (On SQLite each transaction is a group-commit member
// with a savepoint of its own: in commits of 5 first registrations, two
// transactions cost the store 349 µs of CPU per binding and one 252 µs;
// bench/register/flushcost, issue 18.)
func (r *Registrar) write(ctx context.Context, puts, dels map[bindingKey]hotdesk.Binding, audits []*hotdesk.AuditEvent) error {
	if len(puts) == 0 && len(dels) == 0 && len(audits) == 0 {
		return nil
	}
	bs, gone := mapValues(puts), mapValues(dels)
	if r.txBindings {
		return inTxRetried(ctx, r.opts.Store, func(tx hotdesk.Tx) error {
			bt, ok := tx.(hotdesk.BindingTx)
			if !ok {
				return fmt.Errorf("registrar: the store's Tx (%T) writes no bindings", tx)
			}
			if err := bt.PutBindings(ctx, bs); err != nil {
				return fmt.Errorf("put bindings: %w", err)
			}
			if err := bt.DeleteBindings(ctx, gone); err != nil {
				return fmt.Errorf("delete bindings: %w", err)
			}
			return appendAudits(ctx, tx, audits)
		})
	}
	if len(bs) > 0 {
		if err := r.opts.Store.PutBindings(ctx, bs); err != nil {
			return fmt.Errorf("put bindings: %w", err)
		}
	}
	if len(gone) > 0 {
		if err := r.opts.Store.DeleteBindings(ctx, gone); err != nil {
			return fmt.Errorf("delete bindings: %w", err)
		}
	}
	if len(audits) > 0 {
		if err := inTxRetried(ctx, r.opts.Store, func(tx hotdesk.Tx) error { return appendAudits(ctx, tx, audits) }); err != nil {
			return err
		}
	}
	return nil
}

// txRetries is how many times a group commit's transaction is run again
// after ECONFLICT (a serialisation failure or deadlock on PostgreSQL,
// SQLite busy), as the store retries its own PutBindings.
const txRetries = 3

// inTxRetried is store.InTx, run again after ECONFLICT (fn must be safe
// to run again: the failed run was rolled back).
func inTxRetried(ctx context.Context, store Store, fn func(tx hotdesk.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := store.InTx(ctx, fn)
		if err == nil || attempt >= txRetries || hotdesk.ErrorCode(err) != hotdesk.ECONFLICT {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * time.Millisecond):
		}
	}
}

// AuditBatchTx is a Tx that appends many audit events at once (the SQL
// stores' AppendAudits): a burst of first registrations audits one
// event each, written in the group commit.
type AuditBatchTx interface {
	AppendAudits(ctx context.Context, es []*hotdesk.AuditEvent) error
}

func appendAudits(ctx context.Context, tx hotdesk.Tx, audits []*hotdesk.AuditEvent) error {
	if bt, ok := tx.(AuditBatchTx); ok && len(audits) > 1 {
		if err := bt.AppendAudits(ctx, audits); err != nil {
			return fmt.Errorf("append audits: %w", err)
		}
		return nil
	}
	for _, e := range audits {
		if err := tx.AppendAudit(ctx, e); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
	}
	return nil
}

// mapValues lists a group commit's bindings sorted by device, contact and
// node: two nodes upserting overlapping rows on one PostgreSQL then take
// the row locks in the same order and cannot deadlock (map order would
// differ per flush; the ECONFLICT retry covered it, at a lost round trip).
func mapValues(m map[bindingKey]hotdesk.Binding) []hotdesk.Binding {
	if len(m) == 0 {
		return nil
	}
	bs := make([]hotdesk.Binding, 0, len(m))
	for _, b := range m {
		bs = append(bs, b)
	}
	slices.SortFunc(bs, func(a, b hotdesk.Binding) int {
		return cmp.Or(strings.Compare(a.Device, b.Device), strings.Compare(a.Contact, b.Contact), strings.Compare(a.Node, b.Node))
	})
	return bs
}

func (r *Registrar) requeue(puts, dels map[bindingKey]hotdesk.Binding, audits []*hotdesk.AuditEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, b := range puts {
		_, newer := r.puts[k]
		_, newerLater := r.later[k]
		if !newer && !newerLater {
			if _, gone := r.dels[k]; !gone {
				r.puts[k] = b
			}
		}
	}
	for k, b := range dels {
		if _, newer := r.puts[k]; !newer {
			r.dels[k] = b
		}
	}
	r.audits = append(audits, r.audits...)
}
