package provision

import (
	"context"
	"sync"

	"github.com/hotdesk-pbx/hotdesk"
)

// fakeStore is provisioning's Store in memory.
type fakeStore struct {
	mu       sync.Mutex
	devices  map[string]*hotdesk.Device
	users    map[string]*hotdesk.User
	logins   map[string]string // device → extension
	settings hotdesk.Settings
	audit    []hotdesk.AuditEvent
	fail     error // returned by reads when set
}

func newFakeStore() *fakeStore {
	return &fakeStore{devices: map[string]*hotdesk.Device{}, users: map[string]*hotdesk.User{},
		logins: map[string]string{}, settings: hotdesk.DefaultSettings()}
}

func (s *fakeStore) FindDevices(ctx context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error) {
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

func (s *fakeStore) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "device %q not found", id)
	}
	c := *d
	return &c, nil
}

func (s *fakeStore) UpdateDevice(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "device %q not found", id)
	}
	if upd.ProvisionToken != nil {
		d.ProvisionToken = *upd.ProvisionToken
	}
	c := *d
	return &c, nil
}

func (s *fakeStore) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[ext]
	if !ok {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "user %q not found", ext)
	}
	c := *u
	return &c, nil
}

func (s *fakeStore) LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ext, ok := s.logins[device]
	if !ok {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "nobody at %q", device)
	}
	return &hotdesk.Login{Device: device, Extension: ext}, nil
}

func (s *fakeStore) GetSettings(ctx context.Context) (hotdesk.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings, nil
}

func (s *fakeStore) AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit, *e)
	return nil
}

func (s *fakeStore) audits(kind string) []hotdesk.AuditEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hotdesk.AuditEvent
	for _, e := range s.audit {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

var _ Store = (*fakeStore)(nil)
