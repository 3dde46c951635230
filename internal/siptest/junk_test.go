package siptest

import (
	"bufio"
	"net"
	"strconv"
	"sync"
	"testing"
)

// TestJunkSendsOnEveryConnection: each of n connections carries what send
// wrote for its index, and Junk returns once the server closed them all.
func TestJunkSendsOnEveryConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]bool{}
	ServeConns(t, ln, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		mu.Lock()
		got[line] = true
		mu.Unlock()
	})
	Junk(t, ln.Addr().String(), 20, func(i int, c *net.TCPConn) { c.Write([]byte(strconv.Itoa(i) + "\n")) })
	mu.Lock()
	defer mu.Unlock()
	for i := range 20 {
		if !got[strconv.Itoa(i)+"\n"] {
			t.Errorf("connection %d's line not received (got %d lines)", i, len(got))
		}
	}
}
