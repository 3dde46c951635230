package main

import (
	"context"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// memStore keeps devices, bindings and audit events in memory. It stands in
// for the SQLite store when -db is empty, to separate registrar cost from
// database cost.
type memStore struct {
	hotdesk.Store // nil: methods the registrar does not use panic

	mu       sync.Mutex
	devices  map[string]*hotdesk.Device
	bindings map[[2]string]hotdesk.Binding
	audits   int
}

func newMemStore() *memStore {
	return &memStore{devices: map[string]*hotdesk.Device{}, bindings: map[[2]string]hotdesk.Binding{}}
}

func (s *memStore) CreateDevice(ctx context.Context, d *hotdesk.Device) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *d
	s.devices[d.ID] = &c
	return nil
}

func (s *memStore) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "device not found")
	}
	c := *d
	return &c, nil
}

func (s *memStore) PutBindings(ctx context.Context, bs []hotdesk.Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range bs {
		s.bindings[[2]string{b.Device, b.Contact}] = b
	}
	return nil
}

func (s *memStore) DeleteBindings(ctx context.Context, bs []hotdesk.Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range bs {
		delete(s.bindings, [2]string{b.Device, b.Contact})
	}
	return nil
}

func (s *memStore) ListBindings(ctx context.Context, now time.Time) ([]hotdesk.Binding, error) {
	return nil, nil
}

func (s *memStore) DeleteExpiredBindings(ctx context.Context, node string, now time.Time) ([]hotdesk.Binding, error) {
	return nil, nil
}

func (s *memStore) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	return fn(memTx{s: s})
}

func (s *memStore) Close() error { return nil }

type memTx struct {
	hotdesk.Tx
	s *memStore
}

func (t memTx) AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error {
	t.s.mu.Lock()
	t.s.audits++
	t.s.mu.Unlock()
	return nil
}
