package siptest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// MemStore is a small in-memory store for protocol tests: users, devices,
// logins (one per user and per device), audit, settings and bindings, with
// transactions that roll back on error. It has what the SIP components
// declare they need (registrar.Store, desk.Store, feature.Store,
// presence.Store, checksync.Store), not the whole hotdesk.Store. Set Fail to
// make every transaction and read fail (a database outage).
type MemStore struct {
	mu       sync.Mutex
	users    map[string]*hotdesk.User
	devices  map[string]*hotdesk.Device
	logins   map[string]*hotdesk.Login // by device
	audit    []*hotdesk.AuditEvent
	settings hotdesk.Settings
	bindings map[[3]string]hotdesk.Binding
	failures map[[2]string][]time.Time // PIN failures by (scope, key)
	fail     error
}

// NewMemStore returns an empty store with default settings.
func NewMemStore() *MemStore {
	return &MemStore{users: map[string]*hotdesk.User{}, devices: map[string]*hotdesk.Device{},
		logins: map[string]*hotdesk.Login{}, settings: hotdesk.DefaultSettings(), bindings: map[[3]string]hotdesk.Binding{},
		failures: map[[2]string][]time.Time{}}
}

// SetFail makes every store call fail with err (nil heals it).
func (s *MemStore) SetFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

func notFound(what string) error { return hotdesk.Errorf(hotdesk.ENOTFOUND, "%s not found", what) }

// lookup returns a copy of m[key] (s.fail when set, ENOTFOUND naming what
// when there is none). The caller holds s.mu.
func lookup[T any](s *MemStore, m map[string]*T, key, what string) (*T, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	v, ok := m[key]
	if !ok {
		return nil, notFound(what)
	}
	c := *v
	return &c, nil
}

// CreateUser stores a copy of u.
func (s *MemStore) CreateUser(_ context.Context, u *hotdesk.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.Extension]; ok {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "user exists")
	}
	c := *u
	c.HasPIN = c.PINHash != ""
	s.users[u.Extension] = &c
	return nil
}

// CreateDevice stores a copy of d.
func (s *MemStore) CreateDevice(_ context.Context, d *hotdesk.Device) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.devices[d.ID]; ok {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "device exists")
	}
	c := *d
	s.devices[d.ID] = &c
	return nil
}

// FindDevices returns the devices with f.MAC (all when empty); other
// filter fields are ignored.
func (s *MemStore) FindDevices(_ context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, 0, s.fail
	}
	var out []*hotdesk.Device
	for _, d := range s.devices {
		if f.MAC == "" || d.MAC == f.MAC {
			c := *d
			out = append(out, &c)
		}
	}
	return out, len(out), nil
}

// UpdateDevice is the non-transactional form of Tx.UpdateDevice.
func (s *MemStore) UpdateDevice(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (d *hotdesk.Device, err error) {
	err = s.InTx(ctx, func(tx hotdesk.Tx) error {
		d, err = tx.UpdateDevice(ctx, id, upd)
		return err
	})
	return d, err
}

// FindUser returns a copy of the user.
func (s *MemStore) FindUser(_ context.Context, ext string) (*hotdesk.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.findUser(ext)
}

func (s *MemStore) findUser(ext string) (*hotdesk.User, error) {
	return lookup(s, s.users, ext, "user")
}

// FindDevice returns a copy of the device.
func (s *MemStore) FindDevice(_ context.Context, id string) (*hotdesk.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.findDevice(id)
}

func (s *MemStore) findDevice(id string) (*hotdesk.Device, error) {
	return lookup(s, s.devices, id, "device")
}

// UpdateUser applies the PIN hash and lock fields of upd.
func (s *MemStore) UpdateUser(_ context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateUser(ext, upd)
}

func (s *MemStore) updateUser(ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	u, ok := s.users[ext]
	if !ok {
		return nil, notFound("user")
	}
	if upd.PINHash != nil {
		u.PINHash, u.HasPIN = *upd.PINHash, *upd.PINHash != ""
	}
	if upd.LockedUntil != nil {
		u.LockedUntil = *upd.LockedUntil
	}
	if upd.Hotdesk != nil {
		u.Hotdesk = *upd.Hotdesk
	}
	if upd.Name != nil {
		u.Name = *upd.Name
	}
	c := *u
	return &c, nil
}

// ListLogins returns every login.
func (s *MemStore) ListLogins(context.Context) ([]*hotdesk.Login, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listLogins()
}

func (s *MemStore) listLogins() ([]*hotdesk.Login, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	var out []*hotdesk.Login
	for _, d := range slices.Sorted(maps.Keys(s.logins)) {
		c := *s.logins[d]
		out = append(out, &c)
	}
	return out, nil
}

// LoginByUser returns the user's login or ENOTFOUND.
func (s *MemStore) LoginByUser(_ context.Context, ext string) (*hotdesk.Login, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loginByUser(ext)
}

func (s *MemStore) loginByUser(ext string) (*hotdesk.Login, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	for _, l := range s.logins {
		if l.Extension == ext {
			c := *l
			return &c, nil
		}
	}
	return nil, notFound("login")
}

// LoginByDevice returns the device's login or ENOTFOUND.
func (s *MemStore) LoginByDevice(_ context.Context, device string) (*hotdesk.Login, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loginByDevice(device)
}

func (s *MemStore) loginByDevice(device string) (*hotdesk.Login, error) {
	return lookup(s, s.logins, device, "login")
}

func (s *MemStore) createLogin(l *hotdesk.Login) error {
	if _, ok := s.logins[l.Device]; ok {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "device has a login")
	}
	if _, err := s.loginByUser(l.Extension); err == nil {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "user has a login")
	}
	c := *l
	s.logins[l.Device] = &c
	return nil
}

// AppendAudit appends e with the next id.
func (s *MemStore) AppendAudit(_ context.Context, e *hotdesk.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendAudit(e)
}

func (s *MemStore) appendAudit(e *hotdesk.AuditEvent) error {
	if s.fail != nil {
		return s.fail
	}
	e.ID = int64(len(s.audit) + 1)
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	c := *e
	s.audit = append(s.audit, &c)
	return nil
}

// FindAudit filters by extension, device, kinds and since; newest first.
func (s *MemStore) FindAudit(_ context.Context, f hotdesk.AuditFilter) ([]*hotdesk.AuditEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	var out []*hotdesk.AuditEvent
	for i := len(s.audit) - 1; i >= 0 && len(out) < limit; i-- {
		e := s.audit[i]
		if (f.Extension != "" && e.Extension != f.Extension) || (f.Device != "" && e.Device != f.Device) ||
			(len(f.Kinds) > 0 && !slices.Contains(f.Kinds, e.Kind)) || (!f.Since.IsZero() && e.Time.Before(f.Since)) {
			continue
		}
		c := *e
		out = append(out, &c)
	}
	return out, nil
}

// GetSettings returns the settings.
func (s *MemStore) GetSettings(context.Context) (hotdesk.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings, s.fail
}

// PutSettings replaces the settings.
func (s *MemStore) PutSettings(_ context.Context, st hotdesk.Settings) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings = st
	return nil
}

// PutBindings upserts bindings.
func (s *MemStore) PutBindings(_ context.Context, bs []hotdesk.Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range bs {
		s.bindings[[3]string{b.Device, b.Contact, b.Node}] = b
	}
	return nil
}

// DeleteBindings removes bindings.
func (s *MemStore) DeleteBindings(_ context.Context, bs []hotdesk.Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range bs {
		delete(s.bindings, [3]string{b.Device, b.Contact, b.Node})
	}
	return nil
}

// ListBindings returns unexpired bindings.
func (s *MemStore) ListBindings(_ context.Context, now time.Time) ([]hotdesk.Binding, error) {
	return s.DeviceBindings(context.Background(), "", now)
}

// DeviceBindings returns the device's unexpired bindings ("" = all).
func (s *MemStore) DeviceBindings(_ context.Context, device string, now time.Time) ([]hotdesk.Binding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return LiveBindings(s.bindings, device, now), nil
}

// DeleteExpiredBindings removes the node's ("" = all) expired bindings.
func (s *MemStore) DeleteExpiredBindings(_ context.Context, node string, now time.Time) ([]hotdesk.Binding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return TakeExpired(s.bindings, node, now), nil
}

// LiveBindings returns the bindings of m that have not expired at now,
// of device ("" = all): a store's rule, for fake stores of bindings.
func LiveBindings[K comparable](m map[K]hotdesk.Binding, device string, now time.Time) []hotdesk.Binding {
	var out []hotdesk.Binding
	for _, b := range m {
		if (device == "" || b.Device == device) && b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}

// TakeExpired deletes from m and returns the bindings of node ("" = all)
// expired at now: a store's DeleteExpiredBindings, for fake stores.
func TakeExpired[K comparable](m map[K]hotdesk.Binding, node string, now time.Time) []hotdesk.Binding {
	var out []hotdesk.Binding
	for k, b := range m {
		if !b.Expires.After(now) && (node == "" || b.Node == node) {
			delete(m, k)
			out = append(out, b)
		}
	}
	return out
}

// InTx runs fn under the store lock and undoes its changes if it fails.
func (s *MemStore) InTx(_ context.Context, fn func(tx hotdesk.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	tx := &memTx{s: s}
	if err := fn(tx); err != nil {
		for i := len(tx.undo) - 1; i >= 0; i-- {
			tx.undo[i]()
		}
		return err
	}
	return nil
}

// memTx runs the store's operations inside InTx (lock held), keeping an
// undo log.
type memTx struct {
	s    *MemStore
	undo []func()
}

func (t *memTx) FindUser(_ context.Context, ext string) (*hotdesk.User, error) {
	return t.s.findUser(ext)
}
func (t *memTx) FindDevice(_ context.Context, id string) (*hotdesk.Device, error) {
	return t.s.findDevice(id)
}
func (t *memTx) UpdateUser(_ context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	if u, ok := t.s.users[ext]; ok {
		old := *u
		t.undo = append(t.undo, func() { *t.s.users[ext] = old })
	}
	return t.s.updateUser(ext, upd)
}
func (t *memTx) LoginByUser(_ context.Context, ext string) (*hotdesk.Login, error) {
	return t.s.loginByUser(ext)
}
func (t *memTx) LoginByDevice(_ context.Context, d string) (*hotdesk.Login, error) {
	return t.s.loginByDevice(d)
}
func (t *memTx) ListLogins(context.Context) ([]*hotdesk.Login, error) { return t.s.listLogins() }
func (t *memTx) CreateLogin(_ context.Context, l *hotdesk.Login) error {
	if err := t.s.createLogin(l); err != nil {
		return err
	}
	t.undo = append(t.undo, func() { delete(t.s.logins, l.Device) })
	return nil
}
func (t *memTx) UpdateLogin(_ context.Context, l *hotdesk.Login) error {
	old, ok := t.s.logins[l.Device]
	if !ok {
		return notFound("login")
	}
	c := *l
	t.s.logins[l.Device] = &c
	t.undo = append(t.undo, func() { t.s.logins[l.Device] = old })
	return nil
}
func (t *memTx) DeleteLogin(_ context.Context, d string) error {
	old, ok := t.s.logins[d]
	if !ok {
		return notFound("login")
	}
	delete(t.s.logins, d)
	t.undo = append(t.undo, func() { t.s.logins[d] = old })
	return nil
}
func (t *memTx) UpdateDevice(_ context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error) {
	d, ok := t.s.devices[id]
	if !ok {
		return nil, notFound("device")
	}
	old := *d
	t.undo = append(t.undo, func() { *t.s.devices[id] = old })
	if upd.LockedUntil != nil {
		d.LockedUntil = *upd.LockedUntil
	}
	if upd.Mode != nil {
		d.Mode = *upd.Mode
	}
	if upd.Owner != nil {
		d.Owner = *upd.Owner
	}
	if upd.ProvisionToken != nil {
		d.ProvisionToken = *upd.ProvisionToken
	}
	if upd.AutoLogout != nil {
		d.AutoLogout = *upd.AutoLogout
	}
	c := *d
	return &c, nil
}
func (t *memTx) PINFailures(_ context.Context, scope, key string) ([]time.Time, error) {
	return slices.Clone(t.s.failures[[2]string{scope, key}]), nil
}
func (t *memTx) PutPINFailures(_ context.Context, scope, key string, times []time.Time) error {
	k := [2]string{scope, key}
	old, had := t.s.failures[k]
	t.undo = append(t.undo, func() {
		if had {
			t.s.failures[k] = old
		} else {
			delete(t.s.failures, k)
		}
	})
	if len(times) == 0 {
		delete(t.s.failures, k)
	} else {
		t.s.failures[k] = slices.Clone(times)
	}
	return nil
}
func (t *memTx) AppendAudit(_ context.Context, e *hotdesk.AuditEvent) error {
	n := len(t.s.audit)
	if err := t.s.appendAudit(e); err != nil {
		return err
	}
	t.undo = append(t.undo, func() { t.s.audit = t.s.audit[:n] })
	return nil
}
