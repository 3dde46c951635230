package siptest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Junk opens n TCP connections to addr at once and has send write on
// connection i what a server must survive (garbage where a TLS handshake
// is due, say), then waits up to 5 s on each for the server to answer or
// close it. It returns when every connection is done; one that cannot be
// made fails the test.
func Junk(tb testing.TB, addr string, n int, send func(i int, c *net.TCPConn)) {
	tb.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				tb.Error(err)
				return
			}
			defer c.Close()
			send(i, c.(*net.TCPConn))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Read(make([]byte, 64)) // an answer, an alert or the close
		})
	}
	wg.Wait()
}

// ServeConns serves every connection ln accepts with serve, each in a
// goroutine of its own, and closes it after; ln is closed when the test
// ends. For a test's own peer of the PBX (a provider, a mail server).
func ServeConns(tb testing.TB, ln net.Listener, serve func(c net.Conn)) {
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
}
