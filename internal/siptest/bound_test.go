package siptest

import (
	"net"
	"testing"
)

func TestBound(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if !bound(true, "127.0.0.1", port) {
		t.Error("a listening TCP port not found")
	}
	if bound(true, "127.0.0.2", port) {
		t.Error("a TCP port on 127.0.0.1 found on 127.0.0.2")
	}
	l.Close()
	if bound(true, "127.0.0.1", port) {
		t.Error("a closed TCP port found")
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	uport := u.LocalAddr().(*net.UDPAddr).Port
	if !bound(false, "127.0.0.1", uport) {
		t.Error("a bound UDP port not found")
	}
	if bound(true, "127.0.0.1", uport) {
		t.Error("a UDP port found as TCP")
	}
}
