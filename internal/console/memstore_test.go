package console

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// memStore is an in-memory hotdesk.Store with what the console and the
// desk Service use. Transactions hold the lock and do not roll back (the
// tests do not need it). Unimplemented methods panic (nil embedded Store).
type memStore struct {
	hotdesk.Store

	mu       sync.Mutex
	users    map[string]*hotdesk.User
	devices  map[string]*hotdesk.Device
	logins   map[string]*hotdesk.Login // by device
	audit    []*hotdesk.AuditEvent
	calls    []*hotdesk.CallRecord
	settings hotdesk.Settings
	admins   map[string]*hotdesk.Admin
	sessions map[string]*hotdesk.Session
	nextHD   int
	fail     error
}

func newMemStore() *memStore {
	return &memStore{users: map[string]*hotdesk.User{}, devices: map[string]*hotdesk.Device{},
		logins: map[string]*hotdesk.Login{}, settings: hotdesk.DefaultSettings(),
		admins: map[string]*hotdesk.Admin{}, sessions: map[string]*hotdesk.Session{}}
}

func nf(what string) error { return hotdesk.Errorf(hotdesk.ENOTFOUND, "%s not found.", what) }

func (s *memStore) lock() func() { s.mu.Lock(); return s.mu.Unlock }

func (s *memStore) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	defer s.lock()()
	if s.fail != nil {
		return s.fail
	}
	return fn(memTx{s})
}

type memTx struct{ s *memStore }

func (t memTx) FindUser(_ context.Context, ext string) (*hotdesk.User, error) {
	return t.s.findUser(ext)
}
func (t memTx) FindDevice(_ context.Context, id string) (*hotdesk.Device, error) {
	return t.s.findDevice(id)
}
func (t memTx) UpdateUser(_ context.Context, ext string, u hotdesk.UserUpdate) (*hotdesk.User, error) {
	return t.s.updateUser(ext, u)
}
func (t memTx) LoginByUser(_ context.Context, ext string) (*hotdesk.Login, error) {
	return t.s.loginByUser(ext)
}
func (t memTx) LoginByDevice(_ context.Context, d string) (*hotdesk.Login, error) {
	return t.s.loginByDevice(d)
}
func (t memTx) ListLogins(context.Context) ([]*hotdesk.Login, error) { return t.s.listLogins(), nil }
func (t memTx) CreateLogin(_ context.Context, l *hotdesk.Login) error {
	if _, err := t.s.loginByUser(l.Extension); err == nil {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "user has a login")
	}
	if _, ok := t.s.logins[l.Device]; ok {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "device has a login")
	}
	c := *l
	t.s.logins[l.Device] = &c
	return nil
}
func (t memTx) UpdateLogin(_ context.Context, l *hotdesk.Login) error {
	if _, ok := t.s.logins[l.Device]; !ok {
		return nf("login")
	}
	c := *l
	t.s.logins[l.Device] = &c
	return nil
}
func (t memTx) DeleteLogin(_ context.Context, d string) error {
	if _, ok := t.s.logins[d]; !ok {
		return nf("login")
	}
	delete(t.s.logins, d)
	return nil
}
func (t memTx) AppendAudit(_ context.Context, e *hotdesk.AuditEvent) error {
	t.s.appendAudit(e)
	return nil
}

func (s *memStore) findUser(ext string) (*hotdesk.User, error) {
	u, ok := s.users[ext]
	if !ok {
		return nil, nf("user")
	}
	c := *u
	return &c, nil
}

func (s *memStore) findDevice(id string) (*hotdesk.Device, error) {
	d, ok := s.devices[id]
	if !ok {
		return nil, nf("device")
	}
	c := *d
	return &c, nil
}

func (s *memStore) updateUser(ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	u, ok := s.users[ext]
	if !ok {
		return nil, nf("user")
	}
	set(&u.Name, upd.Name)
	set(&u.Email, upd.Email)
	set(&u.Hotdesk, upd.Hotdesk)
	set(&u.PINHash, upd.PINHash)
	set(&u.CallerID, upd.CallerID)
	set(&u.DIDs, upd.DIDs)
	set(&u.Outbound, upd.Outbound)
	set(&u.BLF, upd.BLF)
	set(&u.Voicemail, upd.Voicemail)
	set(&u.RingTimeout, upd.RingTimeout)
	set(&u.LockedUntil, upd.LockedUntil)
	u.HasPIN = u.PINHash != ""
	c := *u
	return &c, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (s *memStore) loginByUser(ext string) (*hotdesk.Login, error) {
	for _, l := range s.logins {
		if l.Extension == ext {
			c := *l
			return &c, nil
		}
	}
	return nil, nf("login")
}

func (s *memStore) loginByDevice(d string) (*hotdesk.Login, error) {
	l, ok := s.logins[d]
	if !ok {
		return nil, nf("login")
	}
	c := *l
	return &c, nil
}

func (s *memStore) listLogins() []*hotdesk.Login {
	var out []*hotdesk.Login
	for _, l := range s.logins {
		c := *l
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *hotdesk.Login) int { return strings.Compare(a.Device, b.Device) })
	return out
}

func (s *memStore) appendAudit(e *hotdesk.AuditEvent) {
	e.ID = int64(len(s.audit) + 1)
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	c := *e
	s.audit = append(s.audit, &c)
}

func (s *memStore) FindUser(_ context.Context, ext string) (*hotdesk.User, error) {
	defer s.lock()()
	return s.findUser(ext)
}

func (s *memStore) FindUsers(_ context.Context, f hotdesk.UserFilter) ([]*hotdesk.User, int, error) {
	defer s.lock()()
	var out []*hotdesk.User
	q := strings.ToLower(f.Search)
	for _, u := range s.users {
		if q == "" || strings.Contains(strings.ToLower(u.Extension+" "+u.Name+" "+u.Email), q) {
			c := *u
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *hotdesk.User) int { return strings.Compare(a.Extension, b.Extension) })
	return pageOf(out, f.Offset, f.Limit), len(out), nil
}

func pageOf[T any](s []T, off, limit int) []T {
	s = s[min(off, len(s)):]
	if limit > 0 && len(s) > limit {
		s = s[:limit]
	}
	return s
}

func (s *memStore) CreateUser(_ context.Context, u *hotdesk.User) error {
	defer s.lock()()
	if _, ok := s.users[u.Extension]; ok {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "Extension exists.")
	}
	c := *u
	s.users[u.Extension] = &c
	return nil
}

func (s *memStore) UpdateUser(_ context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	defer s.lock()()
	return s.updateUser(ext, upd)
}

func (s *memStore) DeleteUser(_ context.Context, ext string) error {
	defer s.lock()()
	if _, ok := s.users[ext]; !ok {
		return nf("user")
	}
	delete(s.users, ext)
	return nil
}

func (s *memStore) FindDevice(_ context.Context, id string) (*hotdesk.Device, error) {
	defer s.lock()()
	return s.findDevice(id)
}

func (s *memStore) FindDevices(_ context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error) {
	defer s.lock()()
	var out []*hotdesk.Device
	for _, d := range s.devices {
		if (f.Mode == "" || d.Mode == f.Mode) && (f.Search == "" || strings.Contains(strings.ToLower(d.ID+" "+d.Label+" "+d.Location.Text), strings.ToLower(f.Search))) {
			c := *d
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *hotdesk.Device) int { return strings.Compare(a.ID, b.ID) })
	return pageOf(out, f.Offset, f.Limit), len(out), nil
}

func (s *memStore) CreateDevice(_ context.Context, d *hotdesk.Device) error {
	defer s.lock()()
	if d.ID == "" {
		s.nextHD++
		d.ID = "HD" + strings.Repeat("0", 5-len(itoa(s.nextHD))) + itoa(s.nextHD)
	}
	if _, ok := s.devices[d.ID]; ok {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "Device exists.")
	}
	c := *d
	s.devices[d.ID] = &c
	return nil
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func (s *memStore) UpdateDevice(_ context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error) {
	defer s.lock()()
	d, ok := s.devices[id]
	if !ok {
		return nil, nf("device")
	}
	set(&d.Label, upd.Label)
	set(&d.MAC, upd.MAC)
	set(&d.Model, upd.Model)
	set(&d.Mode, upd.Mode)
	set(&d.Owner, upd.Owner)
	set(&d.Location, upd.Location)
	set(&d.EmergencyCallback, upd.EmergencyCallback)
	c := *d
	return &c, nil
}

func (s *memStore) DeleteDevice(_ context.Context, id string) error {
	defer s.lock()()
	if _, ok := s.devices[id]; !ok {
		return nf("device")
	}
	delete(s.devices, id)
	delete(s.logins, id)
	return nil
}

func (s *memStore) ListLogins(context.Context) ([]*hotdesk.Login, error) {
	defer s.lock()()
	if s.fail != nil {
		return nil, s.fail
	}
	return s.listLogins(), nil
}

func (s *memStore) LoginByUser(_ context.Context, ext string) (*hotdesk.Login, error) {
	defer s.lock()()
	return s.loginByUser(ext)
}

func (s *memStore) LoginByDevice(_ context.Context, d string) (*hotdesk.Login, error) {
	defer s.lock()()
	return s.loginByDevice(d)
}

func (s *memStore) AppendAudit(_ context.Context, e *hotdesk.AuditEvent) error {
	defer s.lock()()
	s.appendAudit(e)
	return nil
}

func (s *memStore) FindAudit(_ context.Context, f hotdesk.AuditFilter) ([]*hotdesk.AuditEvent, error) {
	defer s.lock()()
	var out []*hotdesk.AuditEvent
	for i := len(s.audit) - 1; i >= 0; i-- {
		e := s.audit[i]
		if auditMatch(e, f) && (f.BeforeID == 0 || e.ID < f.BeforeID) {
			c := *e
			out = append(out, &c)
		}
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	return pageOf(out, 0, limit), nil
}

func auditMatch(e *hotdesk.AuditEvent, f hotdesk.AuditFilter) bool {
	return (f.Extension == "" || e.Extension == f.Extension) && (f.Device == "" || e.Device == f.Device) &&
		(len(f.Kinds) == 0 || slices.Contains(f.Kinds, e.Kind)) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) && (f.Until.IsZero() || e.Time.Before(f.Until))
}

func (s *memStore) CountAudit(_ context.Context, f hotdesk.AuditFilter) (int, error) {
	defer s.lock()()
	n := 0
	for _, e := range s.audit {
		if auditMatch(e, f) {
			n++
		}
	}
	return n, nil
}

func (s *memStore) FindCalls(_ context.Context, ext string, limit int) ([]*hotdesk.CallRecord, error) {
	defer s.lock()()
	var out []*hotdesk.CallRecord
	for _, c := range s.calls {
		if c.Extension == ext {
			out = append(out, c)
		}
	}
	return pageOf(out, 0, limit), nil
}

func (s *memStore) GetSettings(context.Context) (hotdesk.Settings, error) {
	defer s.lock()()
	return s.settings, nil
}

func (s *memStore) PutSettings(_ context.Context, st hotdesk.Settings) error {
	defer s.lock()()
	s.settings = st
	return nil
}

func (s *memStore) DeviceBindings(context.Context, string, time.Time) ([]hotdesk.Binding, error) {
	return nil, nil
}

func (s *memStore) FindAdmin(_ context.Context, name string) (*hotdesk.Admin, error) {
	defer s.lock()()
	a, ok := s.admins[name]
	if !ok {
		return nil, nf("admin")
	}
	c := *a
	return &c, nil
}

func (s *memStore) ListAdmins(context.Context) ([]*hotdesk.Admin, error) {
	defer s.lock()()
	var out []*hotdesk.Admin
	for _, a := range s.admins {
		c := *a
		out = append(out, &c)
	}
	return out, nil
}

func (s *memStore) CreateAdmin(_ context.Context, a *hotdesk.Admin) error {
	defer s.lock()()
	if _, ok := s.admins[a.Username]; ok {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "admin exists")
	}
	c := *a
	s.admins[a.Username] = &c
	return nil
}

func (s *memStore) SetAdminPassword(_ context.Context, name, hash string) error {
	defer s.lock()()
	a, ok := s.admins[name]
	if !ok {
		return nf("admin")
	}
	a.PasswordHash = hash
	return nil
}

func (s *memStore) CreateSession(_ context.Context, ss *hotdesk.Session) error {
	defer s.lock()()
	c := *ss
	s.sessions[ss.TokenHash] = &c
	return nil
}

func (s *memStore) FindSession(_ context.Context, h string) (*hotdesk.Session, error) {
	defer s.lock()()
	ss, ok := s.sessions[h]
	if !ok {
		return nil, nf("session")
	}
	c := *ss
	return &c, nil
}

func (s *memStore) DeleteSession(_ context.Context, h string) error {
	defer s.lock()()
	delete(s.sessions, h)
	return nil
}

func (s *memStore) DeleteExpiredSessions(_ context.Context, now time.Time) error {
	defer s.lock()()
	for k, ss := range s.sessions {
		if !now.Before(ss.Expires) {
			delete(s.sessions, k)
		}
	}
	return nil
}
