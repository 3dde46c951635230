// Package admintest holds test doubles of what the admin service drives,
// shared by the tests of the service and of its edges (web, console).
package admintest

import (
	"context"
	"sync"
)

// Phones is an admin.Phones that records the signals asked for, each as
// "device event", and answers how many contacts one reached:
// Contacts(device), or 1 when Contacts is nil. A signal that reaches no
// contact is not recorded. Safe for concurrent use.
type Phones struct {
	Contacts func(device string) int

	mu   sync.Mutex
	sent []string
}

// Signal records the signal and returns the contacts it reached.
func (p *Phones) Signal(_ context.Context, device, event string) int {
	n := 1
	if p.Contacts != nil {
		n = p.Contacts(device)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n > 0 {
		p.sent = append(p.sent, device+" "+event)
	}
	return n
}

// Sent returns the signals recorded, oldest first.
func (p *Phones) Sent() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sent...)
}

// Last returns the latest signal recorded, "" when there is none.
func (p *Phones) Last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sent) == 0 {
		return ""
	}
	return p.sent[len(p.sent)-1]
}
