package nat

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// skipOrFail skips with reason, or fails on CI (CI=true) where the test
// must run.
func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: this test must run)", reason)
	}
	t.Skip(reason)
}

// topology is the three namespaces of one test run.
type topology struct {
	home, router, office string
}

// Addresses in the namespaces.
const (
	homeIP     = "10.0.1.2" // the NATed phone's private address
	routerHome = "10.0.1.1"
	routerOut  = "10.0.2.1" // the NAT's public address
	pbxIP      = "10.0.2.2"
	officeIP   = "10.0.2.3"
	// natUDPTimeout is the router's UDP conntrack timeout: a pinhole
	// not refreshed for this long is gone.
	natUDPTimeout = 8 * time.Second
)

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
	}
}

func nsExec(t *testing.T, ns string, args ...string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in %s: %s: %v %s", ns, strings.Join(args, " "), err, out)
	}
}

// mustTopology creates home, router and office namespaces and wires them;
// they are deleted when the test ends.
func mustTopology(t *testing.T) *topology {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "network namespaces need root")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed (scripts/test installs iproute2 and iptables)")
		}
	}
	suffix := fmt.Sprintf("%d", os.Getpid()%100000)
	tp := &topology{home: "hdnat-home" + suffix, router: "hdnat-rt" + suffix, office: "hdnat-off" + suffix}
	if out, err := exec.Command("ip", "netns", "add", tp.home).CombinedOutput(); err != nil {
		skipOrFail(t, fmt.Sprintf("ip netns add not allowed: %v %s", err, bytes.TrimSpace(out)))
	}
	t.Cleanup(func() {
		for _, ns := range []string{tp.home, tp.router, tp.office} {
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	ipCmd(t, "netns", "add", tp.router)
	ipCmd(t, "netns", "add", tp.office)
	for _, ns := range []string{tp.home, tp.router, tp.office} {
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	}
	ipCmd(t, "-n", tp.router, "link", "add", "rh", "type", "veth", "peer", "name", "eth0", "netns", tp.home)
	ipCmd(t, "-n", tp.router, "link", "add", "ro", "type", "veth", "peer", "name", "eth0", "netns", tp.office)
	ipCmd(t, "-n", tp.home, "addr", "add", homeIP+"/24", "dev", "eth0")
	ipCmd(t, "-n", tp.home, "link", "set", "eth0", "up")
	ipCmd(t, "-n", tp.home, "route", "add", "default", "via", routerHome)
	ipCmd(t, "-n", tp.router, "addr", "add", routerHome+"/24", "dev", "rh")
	ipCmd(t, "-n", tp.router, "addr", "add", routerOut+"/24", "dev", "ro")
	ipCmd(t, "-n", tp.router, "link", "set", "rh", "up")
	ipCmd(t, "-n", tp.router, "link", "set", "ro", "up")
	ipCmd(t, "-n", tp.office, "addr", "add", pbxIP+"/24", "dev", "eth0")
	ipCmd(t, "-n", tp.office, "addr", "add", officeIP+"/24", "dev", "eth0")
	ipCmd(t, "-n", tp.office, "link", "set", "eth0", "up")
	// The router: forwards, masquerades the home network onto its public
	// address with other ports (a port-changing NAT, so rport matters),
	// and forgets an idle UDP mapping after natUDPTimeout.
	nsExec(t, tp.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	nsExec(t, tp.router, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.0.1.0/24", "-o", "ro", "-p", "udp",
		"-j", "MASQUERADE", "--to-ports", "40000-49999")
	nsExec(t, tp.router, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.0.1.0/24", "-o", "ro", "-j", "MASQUERADE")
	secs := fmt.Sprint(int(natUDPTimeout / time.Second))
	nsExec(t, tp.router, "sysctl", "-qw", "net.netfilter.nf_conntrack_udp_timeout="+secs,
		"net.netfilter.nf_conntrack_udp_timeout_stream="+secs)
	return tp
}

// inNetns runs fn on an OS thread moved into namespace ns: sockets fn
// opens belong to ns for good, whichever thread uses them later.
func inNetns(ns string, fn func() error) error {
	runtime.LockOSThread()
	restored := false
	defer func() {
		if restored {
			runtime.UnlockOSThread()
		} // else the thread stays locked and ends with the goroutine
	}()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer self.Close()
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return err
	}
	defer target.Close()
	if err := setns(target.Fd()); err != nil {
		return fmt.Errorf("setns %s: %w", ns, err)
	}
	ferr := fn()
	if err := setns(self.Fd()); err == nil {
		restored = true
	}
	return ferr
}

func setns(fd uintptr) error {
	if _, _, e := syscall.Syscall(sysSetns, fd, syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}

// listenUDP opens a UDP socket on ip:port inside ns.
func listenUDP(t *testing.T, ns, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := inNetns(ns, func() error {
		a, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return err
		}
		c, err = net.ListenUDP("udp", a)
		return err
	})
	if err != nil {
		t.Fatalf("listen %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// httpIn is an HTTP client whose connections are made inside ns.
func httpIn(ns string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := inNetns(ns, func() error {
				var err error
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}
}

// buildHotdesk builds cmd/hotdesk into a temporary directory.
func buildHotdesk(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hotdesk")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/hotdesk")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hotdesk: %v\n%s", err, out)
	}
	return bin
}
