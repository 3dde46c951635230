package signaling

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Issue 18: one datagram that takes long before routing (here a read
// filter held on purpose) must not stop the others: the UDP socket has
// several read loops. With one loop the second phone's OPTIONS is never
// read while the first is held.
func TestUDPDatagramsReadWhileOneIsHeld(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	var slowAddr string
	var mu sync.Mutex
	s := mustServe(t, func(src string) bool {
		mu.Lock()
		held := src == slowAddr
		mu.Unlock()
		if held {
			once.Do(func() { close(entered) })
			<-release
		}
		return true
	})
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mu.Lock()
	slowAddr = c.LocalAddr().String()
	mu.Unlock()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	if _, err := c.Write([]byte(sipText("OPTIONS", "held", "", c.LocalAddr().String(), "UDP"))); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the held datagram never reached the read filter")
	}
	if res := exchange(t, s, request("OPTIONS", "other", ""), 10*time.Second); res == nil || res.StatusCode != 200 {
		t.Fatalf("another phone's OPTIONS while one datagram is held: %v", res)
	}
	close(release)
	released = true
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	if _, err := c.Read(buf); err != nil {
		t.Fatalf("the held OPTIONS was not answered once released: %v", err)
	}
}
