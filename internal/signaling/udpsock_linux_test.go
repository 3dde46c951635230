//go:build linux && (amd64 || arm64)

package signaling

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 18, ninth pass: a datagram is sent without the socket's write
// lock, which serves stream sockets: writers (the read loop answering,
// calls relaying) no longer queue for it, each parked and woken in turn.
// Here another writer holds the lock; the send does not wait for it.
func TestUDPWriteTakesNoWriteLock(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := newUDPSock(c)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { // a writer holding the lock (as one waiting in the poller for room does)
		defer close(done)
		first := true
		_ = u.rc.Write(func(uintptr) bool {
			if first {
				first = false
				close(held)
				<-release
			}
			return true
		})
	}()
	<-held
	var released atomic.Bool
	// Only a send that waits for the lock sees this; it would wait forever.
	unblock := time.AfterFunc(30*time.Second, func() { released.Store(true); close(release) })
	if _, err := u.WriteTo([]byte("OPTIONS"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if released.Load() {
		t.Error("the send waited for the socket's write lock")
	}
	if unblock.Stop() {
		close(release)
	}
	<-done
	buf := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, _, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "OPTIONS" {
		t.Errorf("peer read %q, %v", buf[:n], err)
	}
}
