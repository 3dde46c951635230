package desk

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// memStore is the desk's Store in memory, with real transactions
// (rollback on error) and a switch to fail every write.
type memStore struct {
	mu       sync.Mutex
	users    map[string]*hotdesk.User
	devices  map[string]*hotdesk.Device
	logins   map[string]*hotdesk.Login // by device
	audit    []*hotdesk.AuditEvent
	settings hotdesk.Settings
	bindings map[string]int // device → live contacts
	failures map[[2]string][]time.Time
	fail     error
}

func newMemStore() *memStore {
	return &memStore{users: map[string]*hotdesk.User{}, devices: map[string]*hotdesk.Device{},
		logins: map[string]*hotdesk.Login{}, settings: hotdesk.DefaultSettings(), bindings: map[string]int{},
		failures: map[[2]string][]time.Time{}}
}

func notFound(what string) error { return hotdesk.Errorf(hotdesk.ENOTFOUND, "%s not found", what) }

type memTx struct{ s *memStore }

func (s *memStore) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	users, logins, n := cloneUsers(s.users), maps.Clone(s.logins), len(s.audit)
	devices, failures := cloneDevices(s.devices), maps.Clone(s.failures)
	if err := fn(memTx{s}); err != nil {
		s.users, s.logins, s.audit = users, logins, s.audit[:n]
		s.devices, s.failures = devices, failures
		return err
	}
	return nil
}

func cloneDevices(m map[string]*hotdesk.Device) map[string]*hotdesk.Device {
	out := make(map[string]*hotdesk.Device, len(m))
	for k, d := range m {
		c := *d
		out[k] = &c
	}
	return out
}

func (t memTx) UpdateDevice(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error) {
	d, ok := t.s.devices[id]
	if !ok {
		return nil, notFound("device")
	}
	if upd.LockedUntil != nil {
		d.LockedUntil = *upd.LockedUntil
	}
	c := *d
	return &c, nil
}

func (t memTx) PINFailures(ctx context.Context, scope, key string) ([]time.Time, error) {
	return slices.Clone(t.s.failures[[2]string{scope, key}]), nil
}

func (t memTx) PutPINFailures(ctx context.Context, scope, key string, times []time.Time) error {
	if len(times) == 0 {
		delete(t.s.failures, [2]string{scope, key})
	} else {
		t.s.failures[[2]string{scope, key}] = slices.Clone(times)
	}
	return nil
}

func cloneUsers(m map[string]*hotdesk.User) map[string]*hotdesk.User {
	out := make(map[string]*hotdesk.User, len(m))
	for k, u := range m {
		c := *u
		out[k] = &c
	}
	return out
}

func (s *memStore) findUser(ext string) (*hotdesk.User, error) {
	u, ok := s.users[ext]
	if !ok {
		return nil, notFound("user")
	}
	c := *u
	return &c, nil
}

func (s *memStore) findDevice(id string) (*hotdesk.Device, error) {
	d, ok := s.devices[id]
	if !ok {
		return nil, notFound("device")
	}
	c := *d
	return &c, nil
}

func (s *memStore) loginByUser(ext string) (*hotdesk.Login, error) {
	for _, l := range s.logins {
		if l.Extension == ext {
			c := *l
			return &c, nil
		}
	}
	return nil, notFound("login")
}

func (s *memStore) loginByDevice(dev string) (*hotdesk.Login, error) {
	l, ok := s.logins[dev]
	if !ok {
		return nil, notFound("login")
	}
	c := *l
	return &c, nil
}

func (s *memStore) listLogins() []*hotdesk.Login {
	var out []*hotdesk.Login
	for _, k := range slices.Sorted(maps.Keys(s.logins)) {
		c := *s.logins[k]
		out = append(out, &c)
	}
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

func (t memTx) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	return t.s.findUser(ext)
}
func (t memTx) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	return t.s.findDevice(id)
}
func (t memTx) UpdateUser(ctx context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	u, ok := t.s.users[ext]
	if !ok {
		return nil, notFound("user")
	}
	if upd.PINHash != nil {
		u.PINHash, u.HasPIN = *upd.PINHash, *upd.PINHash != ""
	}
	if upd.LockedUntil != nil {
		u.LockedUntil = *upd.LockedUntil
	}
	c := *u
	return &c, nil
}
func (t memTx) LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error) {
	return t.s.loginByUser(ext)
}
func (t memTx) LoginByDevice(ctx context.Context, d string) (*hotdesk.Login, error) {
	return t.s.loginByDevice(d)
}
func (t memTx) ListLogins(ctx context.Context) ([]*hotdesk.Login, error) {
	return t.s.listLogins(), nil
}
func (t memTx) CreateLogin(ctx context.Context, l *hotdesk.Login) error {
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
func (t memTx) UpdateLogin(ctx context.Context, l *hotdesk.Login) error {
	if _, ok := t.s.logins[l.Device]; !ok {
		return notFound("login")
	}
	c := *l
	t.s.logins[l.Device] = &c
	return nil
}
func (t memTx) DeleteLogin(ctx context.Context, device string) error {
	if _, ok := t.s.logins[device]; !ok {
		return notFound("login")
	}
	delete(t.s.logins, device)
	return nil
}
func (t memTx) AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error {
	t.s.appendAudit(e)
	return nil
}

func (s *memStore) lock() func() { s.mu.Lock(); return s.mu.Unlock }

func (s *memStore) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	defer s.lock()()
	return s.findUser(ext)
}
func (s *memStore) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	defer s.lock()()
	return s.findDevice(id)
}
func (s *memStore) LoginByDevice(ctx context.Context, d string) (*hotdesk.Login, error) {
	defer s.lock()()
	return s.loginByDevice(d)
}
func (s *memStore) ListLogins(ctx context.Context) ([]*hotdesk.Login, error) {
	defer s.lock()()
	return s.listLogins(), nil
}
func (s *memStore) GetSettings(ctx context.Context) (hotdesk.Settings, error) {
	defer s.lock()()
	return s.settings, nil
}
func (s *memStore) AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error {
	defer s.lock()()
	if s.fail != nil {
		return s.fail
	}
	s.appendAudit(e)
	return nil
}
func (s *memStore) DeviceBindings(ctx context.Context, device string, now time.Time) ([]hotdesk.Binding, error) {
	defer s.lock()()
	return make([]hotdesk.Binding, s.bindings[device]), nil
}

// FindAudit supports the filters the desk uses: extension, device, kinds,
// since and limit, newest first.
func (s *memStore) FindAudit(ctx context.Context, f hotdesk.AuditFilter) ([]*hotdesk.AuditEvent, error) {
	defer s.lock()()
	var out []*hotdesk.AuditEvent
	for i := len(s.audit) - 1; i >= 0; i-- {
		e := s.audit[i]
		if (f.Extension != "" && e.Extension != f.Extension) || (f.Device != "" && e.Device != f.Device) ||
			(len(f.Kinds) > 0 && !slices.Contains(f.Kinds, e.Kind)) || e.Time.Before(f.Since) {
			continue
		}
		c := *e
		out = append(out, &c)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

var errDown = errors.New("database is down")

var _ Store = (*memStore)(nil)
