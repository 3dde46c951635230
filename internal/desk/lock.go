package desk

import (
	"context"
	"errors"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// Detail values of "locked" and "unlocked" audit rows: what was locked.
const (
	LockScopeUser   = "user"
	LockScopeDevice = "device"
)

// failureReason names a failed login in the audit trail ("" = not audited).
func failureReason(err error) string {
	switch {
	case errors.Is(err, ErrBadPIN):
		return hotdesk.ReasonBadPIN
	case errors.Is(err, ErrLocked):
		return hotdesk.ReasonLocked
	case errors.Is(err, ErrUnknownUser):
		return "unknown_user"
	case errors.Is(err, ErrUnknownDevice):
		return "unknown_device"
	case errors.Is(err, ErrUserNotHotdesk):
		return "user_not_hotdesk"
	case errors.Is(err, ErrDeviceNotHotdesk):
		return "device_not_hotdesk"
	}
	return ""
}

// recordFailure audits a refused login and, for a wrong PIN, applies the
// lockout rules to the user and to the device. It runs after the login
// transaction rolled back, in a transaction of its own. Errors are logged:
// the caller already has the error that matters.
func (s *Service) recordFailure(ctx context.Context, ext, device, source string, cause error) {
	reason := failureReason(cause)
	if reason == "" {
		return
	}
	now := s.now()
	audits := []*hotdesk.AuditEvent{{Time: now, Kind: hotdesk.KindLoginFailed, Extension: ext, Device: device,
		Reason: reason, Source: source}}
	lockUser := false
	if reason == hotdesk.ReasonBadPIN {
		n, err := s.recentUserFailures(ctx, ext, now)
		if err != nil {
			s.log.Warn("count pin failures", "extension", ext, "err", err)
		}
		lockUser = n+1 >= MaxFailures
		if lockUser {
			audits = append(audits, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindLocked, Extension: ext,
				Device: device, Reason: hotdesk.ReasonBadPIN, Source: source, Detail: LockScopeUser})
		}
		if device != "" && s.deviceFailure(device, now) {
			audits = append(audits, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindLocked, Device: device,
				Reason: hotdesk.ReasonBadPIN, Source: source, Detail: LockScopeDevice})
		}
	}
	err := s.store.InTx(ctx, func(tx hotdesk.Tx) error {
		if lockUser {
			until := now.Add(LockFor)
			p := &until
			if _, err := tx.UpdateUser(ctx, ext, hotdesk.UserUpdate{LockedUntil: &p}); err != nil {
				return err
			}
		}
		for _, e := range audits {
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("audit login failure", "extension", ext, "device", device, "err", err)
		return
	}
	if lockUser {
		s.log.Info("hot desk login locked", "extension", ext, "device", device, "source", source)
	}
	s.publishAll(audits)
}

// recentUserFailures counts ext's bad-PIN failures within the window since
// its last lock, unlock or successful login, from the audit trail (so all
// nodes share the count).
func (s *Service) recentUserFailures(ctx context.Context, ext string, now time.Time) (int, error) {
	es, err := s.store.FindAudit(ctx, hotdesk.AuditFilter{Extension: ext, Since: now.Add(-FailureWindow),
		Kinds: []string{hotdesk.KindLoginFailed, hotdesk.KindLocked, hotdesk.KindUnlocked, hotdesk.KindLogin}, Limit: 4 * MaxFailures})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range es { // newest first
		if e.Kind != hotdesk.KindLoginFailed {
			break
		}
		if e.Reason == hotdesk.ReasonBadPIN {
			n++
		}
	}
	return n, nil
}

// deviceFailure notes a bad PIN from device and reports whether that locks
// it. Device locks are kept in memory (per node): they stop guessing across
// many extensions from one phone; the durable per-user lock stops the rest.
func (s *Service) deviceFailure(device string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.devFails[device]
	keep := fs[:0]
	for _, t := range fs {
		if now.Sub(t) < FailureWindow {
			keep = append(keep, t)
		}
	}
	keep = append(keep, now)
	if len(keep) < MaxFailures {
		s.devFails[device] = keep
		return false
	}
	delete(s.devFails, device)
	s.devLocked[device] = now.Add(LockFor)
	if len(s.devLocked) > 10000 { // bound memory: forget expired locks
		for d, until := range s.devLocked {
			if !now.Before(until) {
				delete(s.devLocked, d)
			}
		}
	}
	return true
}

// deviceLocked reports whether logins from device are locked.
func (s *Service) deviceLocked(device string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.devLocked[device]
	if ok && !s.now().Before(until) {
		delete(s.devLocked, device)
		return false
	}
	return ok
}

// VerifyPIN checks ext's PIN without logging in, with the same lockout and
// audit trail as Login. Errors: ErrUnknownUser, ErrLocked, ErrBadPIN,
// ErrUnavailable.
func (s *Service) VerifyPIN(ctx context.Context, ext, pin, device, source string) error {
	err := s.verifyPIN(ctx, ext, pin, device)
	if isDomain(err) {
		s.recordFailure(ctx, ext, device, source, err)
	}
	return err
}

func (s *Service) verifyPIN(ctx context.Context, ext, pin, device string) error {
	if device != "" && s.deviceLocked(device) {
		return ErrLocked
	}
	u, err := s.store.FindUser(ctx, ext)
	if isNotFound(err) {
		return ErrUnknownUser
	} else if err != nil {
		return unavailable("find user", err)
	}
	if u.LockedUntil != nil && s.now().Before(*u.LockedUntil) {
		return ErrLocked
	}
	if !CheckPIN(u.PINHash, pin) {
		return ErrBadPIN
	}
	return nil
}

// Unlock lifts ext's hot-desk lock (audited "unlocked"). Failures before the
// unlock no longer count towards the next lock.
func (s *Service) Unlock(ctx context.Context, ext, source string) error {
	e := &hotdesk.AuditEvent{Time: s.now(), Kind: hotdesk.KindUnlocked, Extension: ext, Source: source, Detail: LockScopeUser}
	err := s.store.InTx(ctx, func(tx hotdesk.Tx) error {
		var none *time.Time
		if _, err := tx.UpdateUser(ctx, ext, hotdesk.UserUpdate{LockedUntil: &none}); isNotFound(err) {
			return ErrUnknownUser
		} else if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, e)
	})
	if err != nil {
		return unavailable("unlock", err)
	}
	s.publish(e)
	return nil
}

// UnlockDevice lifts the in-memory lock on logins from device (audited).
func (s *Service) UnlockDevice(ctx context.Context, device, source string) error {
	s.mu.Lock()
	delete(s.devLocked, device)
	delete(s.devFails, device)
	s.mu.Unlock()
	e := &hotdesk.AuditEvent{Time: s.now(), Kind: hotdesk.KindUnlocked, Device: device, Source: source, Detail: LockScopeDevice}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		return unavailable("unlock device", err)
	}
	s.publish(e)
	return nil
}

// SetPIN sets ext's PIN, or generates a random 6-digit one when pin is ""
// and returns it (shown once; never logged). Errors: EINVALID (field pin),
// ErrUnknownUser, ErrUnavailable.
func (s *Service) SetPIN(ctx context.Context, ext, pin string) (string, error) {
	return s.SetPINFrom(ctx, ext, pin, "")
}

// SetPINFrom is SetPIN recording who made the change (e.g. "api") in the
// audit trail; the change is also published on the bus.
func (s *Service) SetPINFrom(ctx context.Context, ext, pin, source string) (string, error) {
	generated := ""
	if pin == "" {
		var err error
		if pin, err = GeneratePIN(); err != nil {
			return "", err
		}
		generated = pin
	}
	if err := ValidatePIN(pin); err != nil {
		return "", err
	}
	hash, err := HashPIN(pin)
	if err != nil {
		return "", err
	}
	e := &hotdesk.AuditEvent{Time: s.now(), Kind: hotdesk.KindUserChanged, Extension: ext, Source: source, Detail: "pin changed"}
	err = s.store.InTx(ctx, func(tx hotdesk.Tx) error {
		if _, err := tx.UpdateUser(ctx, ext, hotdesk.UserUpdate{PINHash: &hash}); isNotFound(err) {
			return ErrUnknownUser
		} else if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, e)
	})
	if err != nil {
		return "", unavailable("set pin", err)
	}
	s.publish(e)
	return generated, nil
}
