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

// recordFailure audits a refused login that changed nothing (unknown user,
// locked, hot desking off, …) in a transaction of its own. Wrong PINs are
// not recorded here: checkPINTx counts and audits them in the transaction
// that checked them. Errors are logged: the caller already has the error
// that matters.
func (s *Service) recordFailure(ctx context.Context, ext, device, source string, cause error) {
	reason := failureReason(cause)
	if reason == "" {
		return
	}
	e := &hotdesk.AuditEvent{Time: s.now(), Kind: hotdesk.KindLoginFailed, Extension: ext, Device: device,
		Reason: reason, Source: source}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.Warn("audit login failure", "extension", ext, "device", device, "err", err)
		return
	}
	s.publish(e)
}

// deviceLockTx refuses PIN checks from a device whose lock is running. An
// unknown device (or none) is not locked.
func (s *Service) deviceLockTx(ctx context.Context, tx hotdesk.Tx, device string, now time.Time) error {
	if device == "" {
		return nil
	}
	d, err := tx.FindDevice(ctx, device)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if d.LockedUntil != nil && now.Before(*d.LockedUntil) {
		return ErrLocked
	}
	return nil
}

// checkPINTx checks pin against u inside the login's write transaction.
// Transactions are serialised by the store (one writer on SQLite, an
// advisory lock on PostgreSQL, across nodes), so the lock checks done
// before it, this check and the counting below are one atomic step: of many
// parallel guesses exactly MaxFailures are checked before the lock holds.
//
// A wrong PIN is counted against the user and the device (only checked
// PINs count; refused attempts never touch the counts) and, at MaxFailures
// within FailureWindow, locks that user or device for LockFor. Those writes
// and the audit rows (returned, already appended) must be committed, so a
// wrong PIN is the outcome with a nil err. A right PIN clears the user's
// count.
//
// pre, if not nil, is the verdict on pin worked out before the transaction
// (prejudgePIN); it is used only if u's hash is still the one it judged.
func (s *Service) checkPINTx(ctx context.Context, tx hotdesk.Tx, u *hotdesk.User, pin string, pre *pinVerdict, device, source string, now time.Time) (audits []*hotdesk.AuditEvent, outcome, err error) {
	if s.pinMatches(pre, u.PINHash, pin) {
		return nil, nil, tx.PutPINFailures(ctx, LockScopeUser, u.Extension, nil)
	}
	audits = []*hotdesk.AuditEvent{{Time: now, Kind: hotdesk.KindLoginFailed, Extension: u.Extension,
		Device: device, Reason: hotdesk.ReasonBadPIN, Source: source}}
	lockUser, err := countFailure(ctx, tx, LockScopeUser, u.Extension, now)
	if err != nil {
		return nil, nil, err
	}
	if lockUser {
		until := now.Add(LockFor)
		p := &until
		if _, err := tx.UpdateUser(ctx, u.Extension, hotdesk.UserUpdate{LockedUntil: &p}); err != nil {
			return nil, nil, err
		}
		audits = append(audits, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindLocked, Extension: u.Extension,
			Device: device, Reason: hotdesk.ReasonBadPIN, Source: source, Detail: LockScopeUser})
	}
	if device != "" {
		lockDev, err := countFailure(ctx, tx, LockScopeDevice, device, now)
		if err != nil {
			return nil, nil, err
		}
		if lockDev {
			until := now.Add(LockFor)
			p := &until
			_, err := tx.UpdateDevice(ctx, device, hotdesk.DeviceUpdate{LockedUntil: &p})
			if err == nil {
				audits = append(audits, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindLocked, Device: device,
					Reason: hotdesk.ReasonBadPIN, Source: source, Detail: LockScopeDevice})
			} else if !isNotFound(err) {
				return nil, nil, err
			}
		}
	}
	for _, e := range audits {
		if err := tx.AppendAudit(ctx, e); err != nil {
			return nil, nil, err
		}
	}
	if lockUser {
		s.log.Info("hot desk login locked", "extension", u.Extension, "device", device, "source", source)
	}
	return audits, ErrBadPIN, nil
}

// pinVerdict is whether a PIN matches one PIN hash, worked out before the
// write transaction that acts on it.
type pinVerdict struct {
	hash string
	ok   bool
}

// prejudgePIN checks pin against ext's hash as read outside any
// transaction, or returns nil when there is nothing to check (no such
// user, a user who may not log in, a failed read): the transaction then
// decides alone. PBKDF2 is the costliest step of a login; inside the
// transaction it held the store's single writer (SQLite), or the row locks
// (PostgreSQL), for its whole length, serialising it (issue 18).
func (s *Service) prejudgePIN(ctx context.Context, ext, pin string) *pinVerdict {
	u, err := findLoginUser(ctx, s.store, ext)
	if err != nil || s.checkUser(u) != nil {
		return nil
	}
	return &pinVerdict{hash: u.PINHash, ok: s.checkPIN(u.PINHash, pin)}
}

// pinMatches reports whether pin matches hash, taking pre's verdict if it
// was made on this very hash (a PIN changed in between is checked again).
func (s *Service) pinMatches(pre *pinVerdict, hash, pin string) bool {
	if pre != nil && pre.hash == hash {
		return pre.ok
	}
	return s.checkPIN(hash, pin)
}

// countFailure adds a wrong PIN at now to the key's failures within the
// window and reports whether that makes MaxFailures (the count then starts
// again: the lock is what stops the next guesses).
func countFailure(ctx context.Context, tx hotdesk.Tx, scope, key string, now time.Time) (bool, error) {
	ts, err := tx.PINFailures(ctx, scope, key)
	if err != nil {
		return false, err
	}
	keep := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < FailureWindow {
			keep = append(keep, t)
		}
	}
	keep = append(keep, now)
	if len(keep) >= MaxFailures {
		return true, tx.PutPINFailures(ctx, scope, key, nil)
	}
	return false, tx.PutPINFailures(ctx, scope, key, keep)
}

// VerifyPIN checks ext's PIN without logging in, with the same lockout and
// audit trail as Login. Errors: ErrUnknownUser, ErrLocked, ErrBadPIN,
// ErrUnavailable.
func (s *Service) VerifyPIN(ctx context.Context, ext, pin, device, source string) error {
	var audits []*hotdesk.AuditEvent
	var outcome error
	pre := s.prejudgePIN(ctx, ext, pin)
	err := s.store.InTx(ctx, func(tx hotdesk.Tx) error {
		now := s.now()
		if err := s.deviceLockTx(ctx, tx, device, now); err != nil {
			return err
		}
		u, err := tx.FindUser(ctx, ext)
		if isNotFound(err) {
			return ErrUnknownUser
		} else if err != nil {
			return err
		}
		if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
			return ErrLocked
		}
		audits, outcome, err = s.checkPINTx(ctx, tx, u, pin, pre, device, source, now)
		return err
	})
	if isDomain(err) {
		s.recordFailure(ctx, ext, device, source, err)
		return err
	} else if err != nil {
		return unavailable("verify pin", err)
	}
	s.publishAll(audits)
	return outcome
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
		if err := tx.PutPINFailures(ctx, LockScopeUser, ext, nil); err != nil {
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

// UnlockDevice lifts the lock on PIN logins from device and forgets its
// failures (audited "unlocked", detail "device"). Errors: ErrUnknownDevice,
// ErrUnavailable.
func (s *Service) UnlockDevice(ctx context.Context, device, source string) error {
	e := &hotdesk.AuditEvent{Time: s.now(), Kind: hotdesk.KindUnlocked, Device: device, Source: source, Detail: LockScopeDevice}
	err := s.store.InTx(ctx, func(tx hotdesk.Tx) error {
		var none *time.Time
		if _, err := tx.UpdateDevice(ctx, device, hotdesk.DeviceUpdate{LockedUntil: &none}); isNotFound(err) {
			return ErrUnknownDevice
		} else if err != nil {
			return err
		}
		if err := tx.PutPINFailures(ctx, LockScopeDevice, device, nil); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, e)
	})
	if err != nil {
		return unavailable("unlock device", err)
	}
	s.publish(e)
	return nil
}

// ActiveLock returns until when it is still in the future at now, else nil:
// what to show of a stored locked_until.
func ActiveLock(until *time.Time, now time.Time) *time.Time {
	if until == nil || !now.Before(*until) {
		return nil
	}
	return until
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
