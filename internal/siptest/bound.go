package siptest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// bound reports whether a socket is bound to ip:port on TCP (listening)
// or UDP, as the kernel lists them in /proc/net: a test can wait for a
// peer it started (sipp) to be ready without connecting to it.
func bound(tcp bool, ip string, port int) bool {
	addr := net.ParseIP(ip).To4()
	if addr == nil {
		return false
	}
	// /proc/net/{tcp,udp}: local_address as the IPv4 address in host
	// (little-endian) byte order and the port, both in hex; st 0A is LISTEN.
	local := fmt.Sprintf("%02X%02X%02X%02X:%04X", addr[3], addr[2], addr[1], addr[0], port)
	any := fmt.Sprintf("00000000:%04X", port)
	file := "/proc/net/udp"
	if tcp {
		file = "/proc/net/tcp"
	}
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 || (fs[1] != local && fs[1] != any) {
			continue
		}
		if !tcp || fs[3] == "0A" {
			return true
		}
	}
	return false
}

// waitBound waits up to d for ip:port to be bound, or for done.
func waitBound(tcp bool, ip string, port int, done <-chan struct{}, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if bound(tcp, ip, port) {
			return true
		}
		select {
		case <-done:
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return false
}
