package desk

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// LoginRequest asks to log Extension in on Device.
type LoginRequest struct {
	Extension string
	Device    string
	PIN       string
	CheckPIN  bool // phones check the PIN; admin and API logins do not
	// Toggle: if Extension is already logged in on Device, log it out
	// instead (LoginResult.Toggled).
	Toggle bool
	Via    string // hotdesk.ViaPhone, ViaAdmin, ViaAPI
	Source string // ip:port, "api", "console:<admin>"
}

// Ended is a login ended as a side effect of another login.
type Ended struct {
	Login  hotdesk.Login
	Reason string // hotdesk.ReasonRoamed, ReasonReplaced
}

// LoginResult is what a Login did.
type LoginResult struct {
	Login   *hotdesk.Login // the new login; on a toggle, the login that ended
	Ended   []Ended        // logins ended by roaming or replacement
	Toggled bool           // it was a logout
}

// Login logs a user in on a hot-desk phone, ending the user's login
// elsewhere (roamed) and the phone's current user's login (replaced), in one
// transaction that also writes the audit trail. A PIN is checked and a
// wrong one counted in that same transaction (see checkPINTx). Errors:
// ErrUnknownUser, ErrUnknownDevice, ErrUserNotHotdesk, ErrDeviceNotHotdesk,
// ErrLocked, ErrBadPIN (each audited as login_failed) and ErrUnavailable
// (database failure; nothing changed).
func (s *Service) Login(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	if req.Via == "" {
		req.Via = hotdesk.ViaPhone
	}
	var res *LoginResult
	var err error
	s.work.do(func() { res, err = s.loginOrRecord(ctx, req) })
	return res, err
}

func (s *Service) loginOrRecord(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	res, err := s.login(ctx, req)
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, ErrBadPIN): // counted and audited with the check
	case isDomain(err):
		s.recordFailure(ctx, req.Extension, req.Device, req.Source, err)
	default:
		s.log.Warn("login failed", "extension", req.Extension, "device", req.Device, "err", err)
	}
	return nil, err
}

func (s *Service) login(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	st, err := s.loadSettings(ctx)
	if err != nil {
		return nil, err
	}
	var pre *pinVerdict
	if req.CheckPIN {
		pre = s.prejudgePIN(ctx, req.Extension, req.PIN)
	}
	var res *LoginResult
	var audits []*hotdesk.AuditEvent
	var outcome error
	start := time.Now()
	for attempt := 0; ; attempt++ {
		res, audits, outcome = &LoginResult{}, nil, nil
		err = s.store.InTx(ctx, func(tx hotdesk.Tx) error {
			var err error
			audits, outcome, err = s.loginTx(ctx, tx, req, st, pre, res)
			return err
		})
		if hotdesk.ErrorCode(err) != hotdesk.ECONFLICT || attempt >= conflictRetries || time.Since(start) > conflictBudget {
			break
		}
		if !pause(ctx, attempt) {
			break
		}
	}
	if err != nil {
		return nil, unavailable("login", err)
	}
	s.publishAll(audits)
	if outcome != nil {
		return nil, outcome
	}
	s.afterLogin(res)
	return res, nil
}

// CanLogin reports whether ext may log in at all, so a phone need not ask
// for a PIN that cannot help: ErrUnknownUser, ErrUserNotHotdesk, ErrLocked
// or ErrUnavailable. Login applies the same rules again.
func (s *Service) CanLogin(ctx context.Context, ext string) error {
	u, err := findLoginUser(ctx, s.store, ext)
	if isNotFound(err) {
		return ErrUnknownUser
	} else if err != nil {
		return unavailable("find user", err)
	}
	return s.checkUser(u)
}

// checkUser applies the per-user rules: hot desking enabled, not locked.
func (s *Service) checkUser(u *hotdesk.User) error {
	if !u.Hotdesk {
		return ErrUserNotHotdesk
	}
	if u.LockedUntil != nil && s.now().Before(*u.LockedUntil) {
		return ErrLocked
	}
	return nil
}

// loginTx does the whole login inside tx and returns the audit rows written.
// A wrong PIN is an outcome to commit (its count and audit rows), not an
// error that rolls back.
func (s *Service) loginTx(ctx context.Context, tx hotdesk.Tx, req LoginRequest, st hotdesk.Settings, pre *pinVerdict, res *LoginResult) (audits []*hotdesk.AuditEvent, outcome, err error) {
	now := s.now()
	if l, ok := tx.(hotdesk.LoginLocker); ok {
		if err := l.LockLogin(ctx, req.Extension, req.Device); err != nil {
			return nil, nil, err
		}
	}
	// The phone is read with its login when the store can (curKnown);
	// else its login is read below.
	d, cur, curKnown, err := findLoginDeviceNow(ctx, tx, req.Device)
	if isNotFound(err) {
		return nil, nil, ErrUnknownDevice
	} else if err != nil {
		return nil, nil, err
	}
	// A device lock stops PIN guessing from that phone; an admin's login
	// checks no PIN and is not refused by it.
	if req.CheckPIN && ActiveLock(d.LockedUntil, now) != nil {
		return nil, nil, ErrLocked
	}
	if d.Mode != hotdesk.ModeHotdesk {
		return nil, nil, ErrDeviceNotHotdesk
	}
	u, err := findLoginUser(ctx, tx, req.Extension)
	if isNotFound(err) {
		return nil, nil, ErrUnknownUser
	} else if err != nil {
		return nil, nil, err
	}
	if err := s.checkUser(u); err != nil {
		return nil, nil, err
	}
	if req.CheckPIN {
		audits, outcome, err := s.checkPINTx(ctx, tx, u, req.PIN, pre, req.Device, req.Source, now)
		if err != nil || outcome != nil {
			return audits, outcome, err
		}
	}
	if !curKnown {
		if cur, err = loginByDevice(ctx, tx, req.Device); err != nil {
			return nil, nil, err
		}
	}
	if cur != nil && cur.Extension == req.Extension {
		if !req.Toggle {
			res.Login = cur // already there: nothing changes
			return nil, nil, nil
		}
		res.Login, res.Toggled = cur, true
		e, err := endLogin(ctx, tx, cur, hotdesk.ReasonUser, req.Source, now, "")
		return []*hotdesk.AuditEvent{e}, nil, err
	}
	audits, err = s.switchTo(ctx, tx, req, d, cur, st, now, res)
	return audits, nil, err
}

// switchTo ends the user's other login and the device's current one, then
// creates the new login.
func (s *Service) switchTo(ctx context.Context, tx hotdesk.Tx, req LoginRequest, d *hotdesk.Device, cur *hotdesk.Login, st hotdesk.Settings, now time.Time, res *LoginResult) ([]*hotdesk.AuditEvent, error) {
	var audits []*hotdesk.AuditEvent
	old, err := tx.LoginByUser(ctx, req.Extension)
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	if err == nil {
		e, err := endLogin(ctx, tx, old, hotdesk.ReasonRoamed, req.Source, now, "to "+req.Device)
		if err != nil {
			return nil, err
		}
		audits = append(audits, e)
		res.Ended = append(res.Ended, Ended{Login: *old, Reason: hotdesk.ReasonRoamed})
	}
	if cur != nil {
		e, err := endLogin(ctx, tx, cur, hotdesk.ReasonReplaced, req.Source, now, "by "+req.Extension)
		if err != nil {
			return nil, err
		}
		audits = append(audits, e)
		res.Ended = append(res.Ended, Ended{Login: *cur, Reason: hotdesk.ReasonReplaced})
	}
	l := &hotdesk.Login{Extension: req.Extension, Device: req.Device, Since: now, Via: req.Via, LastActivity: now}
	applyDeadline(l, effectivePolicy(st, d), location(st.Timezone, s.log))
	if err := tx.CreateLogin(ctx, l); err != nil {
		return nil, err
	}
	e := &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindLogin, Extension: l.Extension, Device: l.Device,
		Reason: l.Via, Source: req.Source}
	if err := tx.AppendAudit(ctx, e); err != nil {
		return nil, err
	}
	res.Login = l
	return append(audits, e), nil
}

// loginUserReader and loginDeviceReader are the narrow reads of a login
// that the SQL stores offer (sqlstore.DB.LoginUser, Tx.LoginUser,
// Tx.LoginDevice): only the fields the rules below check (a user's
// Extension, Hotdesk, PINHash and LockedUntil; a device's ID, Mode,
// LockedUntil and AutoLogout), not whole rows with their JSON columns
// decoded, which inside the login transaction was the single SQLite
// writer's time (issue 18). Other stores are read with FindUser and
// FindDevice.
type (
	loginUserReader interface {
		LoginUser(ctx context.Context, ext string) (*hotdesk.User, error)
	}
	loginDeviceReader interface {
		LoginDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	}
)

// loginDeviceNowReader reads a login's phone with its current login in
// one statement (sqlstore.Tx.LoginDeviceNow): LoginDevice and
// LoginByDevice were two inside the one SQLite writer's critical section
// (issue 18).
type loginDeviceNowReader interface {
	LoginDeviceNow(ctx context.Context, id string) (*hotdesk.Device, *hotdesk.Login, error)
}

// findLoginDeviceNow reads what a login checks of phone id in tx and, when
// the store can in the same statement, its login (nil when neutral);
// known says it did.
func findLoginDeviceNow(ctx context.Context, tx hotdesk.Tx, id string) (d *hotdesk.Device, cur *hotdesk.Login, known bool, err error) {
	if r, ok := tx.(loginDeviceNowReader); ok {
		d, cur, err = r.LoginDeviceNow(ctx, id)
		return d, cur, err == nil, err
	}
	d, err = findLoginDevice(ctx, tx, id)
	return d, nil, false, err
}

// findLoginUser reads what a login checks of user ext from q (the store or
// a transaction).
func findLoginUser(ctx context.Context, q interface {
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
}, ext string) (*hotdesk.User, error) {
	if r, ok := q.(loginUserReader); ok {
		return r.LoginUser(ctx, ext)
	}
	return q.FindUser(ctx, ext)
}

// findLoginDevice reads what a login checks of device id in tx.
func findLoginDevice(ctx context.Context, tx hotdesk.Tx, id string) (*hotdesk.Device, error) {
	if r, ok := tx.(loginDeviceReader); ok {
		return r.LoginDevice(ctx, id)
	}
	return tx.FindDevice(ctx, id)
}

// loginByDevice returns the device's login, or nil if it is neutral.
func loginByDevice(ctx context.Context, tx hotdesk.Tx, device string) (*hotdesk.Login, error) {
	l, err := tx.LoginByDevice(ctx, device)
	if isNotFound(err) {
		return nil, nil
	}
	return l, err
}

// endLogin deletes l and appends its logout audit row.
func endLogin(ctx context.Context, tx hotdesk.Tx, l *hotdesk.Login, reason, source string, now time.Time, detail string) (*hotdesk.AuditEvent, error) {
	if err := tx.DeleteLogin(ctx, l.Device); err != nil {
		return nil, err
	}
	e := &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindLogout, Extension: l.Extension, Device: l.Device,
		Reason: reason, Source: source, Detail: detail}
	return e, tx.AppendAudit(ctx, e)
}

// afterLogin updates the auto-logout schedule for a committed login.
func (s *Service) afterLogin(res *LoginResult) {
	for _, e := range res.Ended {
		s.sched.forget(e.Login.Device)
	}
	s.sched.forget(res.Login.Device)
	if !res.Toggled {
		s.schedule(res.Login)
	}
}

// Logout ends the login on device. Returns ErrNotLoggedIn (ENOTFOUND) if the
// device is neutral, ErrUnavailable on database failure.
func (s *Service) Logout(ctx context.Context, device, reason, source string) (l *hotdesk.Login, err error) {
	s.work.do(func() {
		l, err = s.logoutWhere(ctx, reason, source, "", func(tx hotdesk.Tx) (*hotdesk.Login, error) {
			return tx.LoginByDevice(ctx, device)
		})
	})
	return l, err
}

// LogoutUser ends ext's login wherever it is. Returns ErrNotLoggedIn
// (ENOTFOUND) if the user is not logged in.
func (s *Service) LogoutUser(ctx context.Context, ext, reason, source string) (*hotdesk.Login, error) {
	return s.logoutWhere(ctx, reason, source, "", func(tx hotdesk.Tx) (*hotdesk.Login, error) {
		return tx.LoginByUser(ctx, ext)
	})
}

func (s *Service) logoutWhere(ctx context.Context, reason, source, detail string, find func(hotdesk.Tx) (*hotdesk.Login, error)) (*hotdesk.Login, error) {
	var l *hotdesk.Login
	var e *hotdesk.AuditEvent
	err := s.store.InTx(ctx, func(tx hotdesk.Tx) error {
		var err error
		if l, err = find(tx); isNotFound(err) {
			return ErrNotLoggedIn
		} else if err != nil {
			return err
		}
		e, err = endLogin(ctx, tx, l, reason, source, s.now(), detail)
		return err
	})
	if err != nil {
		return nil, unavailable("logout", err)
	}
	s.sched.forget(l.Device)
	s.publish(e)
	return l, nil
}

// LogoutAll ends every login (reason given, e.g. admin) in one transaction.
func (s *Service) LogoutAll(ctx context.Context, reason, source string) ([]*hotdesk.Login, error) {
	var ls []*hotdesk.Login
	var audits []*hotdesk.AuditEvent
	err := s.store.InTx(ctx, func(tx hotdesk.Tx) error {
		var err error
		ls, audits = nil, nil
		if ls, err = tx.ListLogins(ctx); err != nil {
			return err
		}
		now := s.now()
		for _, l := range ls {
			e, err := endLogin(ctx, tx, l, reason, source, now, "")
			if err != nil {
				return err
			}
			audits = append(audits, e)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("logout all", err)
	}
	for _, l := range ls {
		s.sched.forget(l.Device)
	}
	s.publishAll(audits)
	return ls, nil
}

// UserAt returns the user logged in on device, or ErrNotLoggedIn (ENOTFOUND)
// when the device is neutral.
func (s *Service) UserAt(ctx context.Context, device string) (*hotdesk.User, error) {
	l, err := s.store.LoginByDevice(ctx, device)
	if isNotFound(err) {
		return nil, ErrNotLoggedIn
	} else if err != nil {
		return nil, unavailable("login by device", err)
	}
	u, err := s.store.FindUser(ctx, l.Extension)
	if isNotFound(err) {
		return nil, ErrNotLoggedIn // deleted between the two reads
	} else if err != nil {
		return nil, unavailable("find user", err)
	}
	return u, nil
}

// pause waits a random time before attempt+1 of a login that lost a race:
// uniform in [0, 2^min(attempt,4) × conflictPause). It is false when ctx
// ends first.
func pause(ctx context.Context, attempt int) bool {
	d := time.Duration(rand.Int64N(int64(conflictPause) << min(attempt, 4)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
