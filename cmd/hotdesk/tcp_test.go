package main

import (
	"encoding/hex"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// tcpConnected reports whether an established IPv4 TCP connection from
// fromIP to the address to ("IP:PORT") exists on this machine
// (/proc/net/tcp).
func tcpConnected(t *testing.T, fromIP, to string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatalf("read /proc/net/tcp: %v", err)
	}
	host, port, err := net.SplitHostPort(to)
	if err != nil {
		t.Fatal(err)
	}
	want := procAddr(t, host, port)
	from := procAddr(t, fromIP, "0")[:8]
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		// local, remote, state (01 = ESTABLISHED)
		if f[3] == "01" && strings.HasPrefix(f[1], from) && f[2] == want {
			return true
		}
	}
	return false
}

// procAddr renders IP:PORT as /proc/net/tcp does (little-endian address).
func procAddr(t *testing.T, ip, port string) string {
	t.Helper()
	v4 := net.ParseIP(ip).To4()
	if v4 == nil {
		t.Fatalf("%q is not IPv4", ip)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	le := []byte{v4[3], v4[2], v4[1], v4[0]}
	return strings.ToUpper(hex.EncodeToString(le)) + ":" + strings.ToUpper(strconv.FormatInt(int64(p)|0x10000, 16)[1:])
}
