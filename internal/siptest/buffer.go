package siptest

import (
	"bytes"
	"sync"

	"github.com/hotdesk-pbx/hotdesk"
)

// Buffer is a bytes.Buffer safe for a writer (a logger, a process's
// output) and the test reading it at the same time.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Contacts is a registrar's table of live contacts that a test fills in
// by hand (the Registrations of the API and the console). The zero value
// is empty and ready.
type Contacts struct {
	mu sync.Mutex
	m  map[string][]hotdesk.Binding
}

// Contacts returns device's contacts as last Set.
func (c *Contacts) Contacts(device string) []hotdesk.Binding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[device]
}

// Set replaces device's contacts (none: unregistered).
func (c *Contacts) Set(device string, bs ...hotdesk.Binding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]hotdesk.Binding{}
	}
	c.m[device] = bs
}
