package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// schedule sets (or clears) the auto-logout deadline of a committed login.
func (s *Service) schedule(l *hotdesk.Login) {
	if l.EndsAt == nil {
		s.sched.remove(policyKey(l.Device))
		return
	}
	s.sched.set(policyKey(l.Device), l.Device, *l.EndsAt, false)
}

// Load schedules the stored deadlines of every login (Run calls it first),
// and a lost-registration logout for each login whose phone has no
// registration when the policy asks for one (scheduleLost).
func (s *Service) Load(ctx context.Context) error {
	ls, err := s.store.ListLogins(ctx)
	if err != nil {
		return fmt.Errorf("desk: load logins: %w", err)
	}
	for _, l := range ls {
		s.schedule(l)
	}
	s.scheduleLost(ctx, ls)
	s.log.Debug("auto-logout deadlines loaded", "logins", len(ls), "pending", s.sched.len())
	return nil
}

// lostRecheck is the least time between two checks of every login's
// registration after resyncs: a registration flood can overrun the event
// queue again and again, and each check reads every login's phone.
const lostRecheck = 30 * time.Second

// scheduleLost schedules a lost-registration logout, from now, for each
// login in ls whose phone has no live registration, when its policy asks
// for one and none is pending. The deadlines of unregistered events are
// kept in memory only: without this a restart, or an unregistered event
// lost in a flood (events.KindResync), would leave such a login for good —
// the stale login on a dead phone the policy is there to end. A phone that
// registers again meanwhile is caught by fireLost, which looks again.
func (s *Service) scheduleLost(ctx context.Context, ls []*hotdesk.Login) {
	now := s.now()
	s.lostChecked, s.lostPending = now, false
	for _, l := range ls {
		if s.sched.has(lostKey(l.Device)) {
			continue
		}
		p, _, err := s.policyFor(ctx, l.Device)
		if err != nil {
			s.log.Warn("lost registration: policy", "device", l.Device, "err", err)
			continue
		}
		d := parsePolicyDuration(p.LostRegistration)
		if d <= 0 {
			continue
		}
		bs, err := s.store.DeviceBindings(ctx, l.Device, now)
		if err != nil {
			s.log.Warn("lost registration: bindings", "device", l.Device, "err", err)
			continue
		}
		if len(bs) == 0 {
			s.sched.set(lostKey(l.Device), l.Device, now.Add(d), true)
		}
	}
}

// Run loads pending deadlines, then fires each when due and follows the
// bus (registrations for lost-registration logouts, settings changes) until
// ctx is done. One timer, set for the earliest deadline, serves all logins.
func (s *Service) Run(ctx context.Context) error {
	if err := s.Load(ctx); err != nil {
		return err
	}
	var evs <-chan events.Event
	if s.bus != nil {
		ch, cancel := s.bus.SubscribeKinds(1024, handles)
		defer cancel()
		evs = ch
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := time.Hour
		if at, ok := s.sched.next(); ok {
			wait = max(at.Sub(s.now()), 0)
		}
		if s.lostPending {
			wait = min(wait, max(s.lostChecked.Add(lostRecheck).Sub(s.now()), 0))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-s.sched.wake:
		case <-timer.C:
			if s.lostPending && !s.now().Before(s.lostChecked.Add(lostRecheck)) {
				s.resync(ctx)
			}
			s.Tick(ctx, s.now())
		case e, ok := <-evs:
			if !ok {
				evs = nil
				continue
			}
			s.handleEvent(ctx, e)
		}
	}
}

// Tick fires every deadline due at now. Run calls it from its timer; tests
// call it with an injected clock instead of sleeping.
func (s *Service) Tick(ctx context.Context, now time.Time) {
	for _, e := range s.sched.due(now) {
		var err error
		if e.lost {
			err = s.fireLost(ctx, e.device, now)
		} else {
			err = s.evaluate(ctx, e.device, now, false)
		}
		if err != nil {
			// Keep the login; try again in a minute rather than drop it.
			s.log.Warn("auto-logout", "device", e.device, "err", err)
			s.sched.set(e.key, e.device, now.Add(time.Minute), e.lost)
		}
	}
}

// evaluate re-reads the device's login, recomputes its deadline under the
// current policy (activity may have moved it, an admin may have changed the
// policy) and logs out when due — unless the device is in a call, in which
// case CallEnded does it.
func (s *Service) evaluate(ctx context.Context, device string, now time.Time, callOver bool) error {
	l, err := s.store.LoginByDevice(ctx, device)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	p, loc, err := s.policyFor(ctx, device)
	if err != nil {
		return err
	}
	at, policy, ok := deadline(p, loc, l.Since, l.LastActivity)
	switch {
	case !ok:
		return s.storeDeadline(ctx, l, nil, "")
	case at.After(now):
		return s.storeDeadline(ctx, l, &at, policy)
	case s.held(ctx, device, &at):
		s.log.Info("auto-logout suspended: emergency callback window", "device", device, "extension", l.Extension, "until", at)
		return s.storeDeadline(ctx, l, &at, policy)
	case !callOver && s.inCall(device):
		s.log.Info("auto-logout deferred until the call ends", "device", device, "extension", l.Extension, "policy", policy)
		s.sched.setDeferred(device, policy)
		return nil
	}
	return s.autoLogout(ctx, l, policy)
}

// held reports whether Options.Hold suspends device's auto-logout, and
// sets *until to when the suspension ends.
func (s *Service) held(ctx context.Context, device string, until *time.Time) bool {
	if s.hold == nil {
		return false
	}
	t, ok := s.hold(ctx, device)
	if ok && t.After(s.now()) {
		*until = t
		return true
	}
	return false
}

// policyFor returns the auto-logout policy and time zone for a device.
func (s *Service) policyFor(ctx context.Context, device string) (hotdesk.AutoLogout, *time.Location, error) {
	st, err := s.loadSettings(ctx)
	if err != nil {
		return hotdesk.AutoLogout{}, nil, err
	}
	d, err := s.store.FindDevice(ctx, device)
	if err != nil && !isNotFound(err) {
		return hotdesk.AutoLogout{}, nil, err
	}
	return effectivePolicy(st, d), location(st.Timezone, s.log), nil
}

// storeDeadline writes a moved deadline back to the login and reschedules.
func (s *Service) storeDeadline(ctx context.Context, l *hotdesk.Login, at *time.Time, policy string) error {
	if sameTime(l.EndsAt, at) && l.Policy == policy {
		s.schedule(l)
		return nil
	}
	l.EndsAt, l.Policy = at, policy
	err := s.store.InTx(ctx, func(tx hotdesk.Tx) error { return tx.UpdateLogin(ctx, l) })
	if isNotFound(err) {
		return nil // logged out meanwhile
	} else if err != nil {
		return err
	}
	s.schedule(l)
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// autoLogout ends l (if it is still the device's login) with reason auto
// and the policy that fired as the audit detail.
func (s *Service) autoLogout(ctx context.Context, l *hotdesk.Login, policy string) error {
	_, err := s.logoutWhere(ctx, hotdesk.ReasonAuto, "auto-logout", policy, func(tx hotdesk.Tx) (*hotdesk.Login, error) {
		cur, err := tx.LoginByDevice(ctx, l.Device)
		if err == nil && (cur.Extension != l.Extension || !cur.Since.Equal(l.Since)) {
			// Someone (or the same user again) logged in meanwhile, here or
			// on another node: the deadline was the old login's.
			return nil, ErrNotLoggedIn
		}
		return cur, err
	})
	if err == nil {
		s.log.Info("auto-logout", "device", l.Device, "extension", l.Extension, "policy", policy)
	}
	if isNotFound(err) {
		return nil
	}
	return err
}

// CallEnded tells the service a call on device ended (call it after InCall
// stops reporting the device). A logout deferred by that call happens now;
// an idle deadline is instead pushed back, since the call was activity.
func (s *Service) CallEnded(ctx context.Context, device string) error {
	policy, ok := s.sched.takeDeferred(device)
	if !ok {
		return nil
	}
	if policy == PolicyIdle {
		return s.Touch(ctx, device)
	}
	return s.evaluate(ctx, device, s.now(), true)
}

// Touch records activity (a call made or answered) on device's login and
// moves its idle deadline. No-op when the device is neutral.
func (s *Service) Touch(ctx context.Context, device string) error {
	p, loc, err := s.policyFor(ctx, device)
	if err != nil {
		return unavailable("touch", err)
	}
	var l *hotdesk.Login
	now := s.now()
	err = s.store.InTx(ctx, func(tx hotdesk.Tx) error {
		var err error
		if l, err = tx.LoginByDevice(ctx, device); err != nil {
			return err
		}
		l.LastActivity = now
		applyDeadline(l, p, loc)
		return tx.UpdateLogin(ctx, l)
	})
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return unavailable("touch", err)
	}
	s.schedule(l)
	return nil
}

// handleEvent follows registrations (lost-registration policy), settings
// changes and logins made on other nodes.
// handles reports whether handleEvent acts on events of kind: Run's
// subscription takes only those, so a call's events do not wake it
// (issue 18). KindResync comes anyway.
func handles(kind string) bool {
	switch kind {
	case hotdesk.KindLogin, hotdesk.KindSettings, hotdesk.KindRegistered, hotdesk.KindUnregistered:
		return true
	}
	return false
}

func (s *Service) handleEvent(ctx context.Context, e events.Event) {
	switch e.Kind {
	case hotdesk.KindLogin:
		if e.Remote() {
			s.remoteLogin(ctx, e)
		}
	case events.KindResync:
		// Events were dropped (a flood overran the queue) or other nodes'
		// missed: schedule from the store, at most every lostRecheck.
		if s.now().Before(s.lostChecked.Add(lostRecheck)) {
			s.lostPending = true // Run's timer does it then
			return
		}
		s.resync(ctx)
	case hotdesk.KindSettings:
		s.InvalidateSettings()
	case hotdesk.KindRegistered:
		s.sched.remove(lostKey(e.Device))
	case hotdesk.KindUnregistered:
		if err := s.registrationLost(ctx, e.Device); err != nil {
			s.log.Warn("lost registration", "device", e.Device, "err", err)
		}
	}
}

// resync reloads every login's deadlines from the store (Load).
func (s *Service) resync(ctx context.Context) {
	if err := s.Load(ctx); err != nil {
		s.log.Warn("auto-logout: resync", "err", err)
		s.lostPending = true // try again after lostRecheck
	}
}

// registrationLost schedules a lost-registration logout when the policy
// asks for one and someone is logged in on the device.
func (s *Service) registrationLost(ctx context.Context, device string) error {
	p, _, err := s.policyFor(ctx, device)
	if err != nil {
		return err
	}
	d := parsePolicyDuration(p.LostRegistration)
	if d <= 0 {
		return nil
	}
	if _, err := s.store.LoginByDevice(ctx, device); isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	s.sched.set(lostKey(device), device, s.now().Add(d), true)
	return nil
}

// fireLost logs the device's user out if the device is still unregistered.
func (s *Service) fireLost(ctx context.Context, device string, now time.Time) error {
	bs, err := s.store.DeviceBindings(ctx, device, now)
	if err != nil {
		return err
	}
	if len(bs) > 0 {
		return nil // registered again (possibly through another node)
	}
	l, err := s.store.LoginByDevice(ctx, device)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	return s.autoLogout(ctx, l, PolicyLostRegistration)
}

// remoteLogin schedules the deadline of a login another node made (this
// node's own are scheduled by Login), so the user is logged out on time
// even if that node stops. Both nodes firing is harmless: the second finds
// the login gone or replaced (autoLogout compares Since).
func (s *Service) remoteLogin(ctx context.Context, e events.Event) {
	if n := e.Login; n != nil {
		// The cluster's reader looked the login up with the event.
		if n.Live {
			s.schedule(&hotdesk.Login{Extension: e.Extension, Device: e.Device, EndsAt: n.EndsAt})
		}
		return
	}
	l, err := s.store.LoginByDevice(ctx, e.Device)
	if isNotFound(err) {
		return // already ended
	} else if err != nil {
		s.log.Warn("auto-logout: remote login", "device", e.Device, "node", e.Node, "err", err)
		return
	}
	if l.Extension == e.Extension {
		s.schedule(l)
	}
}
