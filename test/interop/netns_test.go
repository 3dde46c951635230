package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment between the outer test process and its copy re-executed
// inside the network namespace.
const (
	envRequired = "HOTDESK_INTEROP"       // set: missing prerequisites fail instead of skip
	envInner    = "HOTDESK_INTEROP_INNER" // set in the copy running inside the namespace
	envBinary   = "HOTDESK_INTEROP_BIN"   // the hotdesk binary built by the outer process
)

// runTime bounds the whole interop run (issue 10: under 3 minutes).
const runTime = 170 * time.Second

// skipOrFail skips with reason, or fails when HOTDESK_INTEROP says the run
// must happen (CI).
func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv(envRequired) != "" {
		t.Fatalf("%s (and %s is set, so this must run)", reason, envRequired)
	}
	t.Skip(reason + "; set " + envRequired + "=1 to make this a failure")
}

// unshareArgs is how this process makes a network namespace: as root a
// plain one, otherwise inside a user namespace that maps us to root.
func unshareArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--net"}
	}
	return []string{"--user", "--map-root-user", "--net"}
}

// runInNamespace checks the prerequisites, builds hotdesk and re-executes
// this test binary inside a fresh network namespace, streaming its output.
func runInNamespace(t *testing.T) {
	for _, tool := range []string{"baresip", "linphonec", "ip", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" is not installed (scripts/test installs baresip, linphone-cli and iproute2)")
		}
	}
	probe := exec.Command("unshare", append(unshareArgs(), "true")...)
	if out, err := probe.CombinedOutput(); err != nil {
		skipOrFail(t, fmt.Sprintf("cannot create a network namespace (unshare %s): %v %s",
			strings.Join(unshareArgs(), " "), err, bytes.TrimSpace(out)))
	}
	bin := buildHotdesk(t)

	ctx, cancel := context.WithTimeout(context.Background(), runTime+20*time.Second)
	defer cancel()
	args := append(unshareArgs(), os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v",
		"-test.timeout="+runTime.String(), "-test.count=1")
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(os.Environ(), envInner+"=1", envBinary+"="+bin)
	cmd.Stdout = t.Output()
	cmd.Stderr = t.Output()
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = dieWithTest()
	start := time.Now()
	err := cmd.Run()
	t.Logf("interop run in the namespace took %s", time.Since(start).Round(100*time.Millisecond))
	if err != nil {
		t.Fatalf("interop run in the namespace failed: %v (its output is above)", err)
	}
}

// dieWithTest has the kernel kill a child when this test process dies, so
// a timed-out run (whose cleanups never run) leaves no PBX or client
// behind. (Pdeathsig follows the creating OS thread; the Go runtime keeps
// its threads unless a goroutine locked one, which these tests never do.)
func dieWithTest() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// buildHotdesk builds cmd/hotdesk into a temporary directory. It happens
// outside the namespace: the module cache may need the network.
func buildHotdesk(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		skipOrFail(t, "go is not on PATH, cannot build cmd/hotdesk")
	}
	bin := filepath.Join(t.TempDir(), "hotdesk")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/hotdesk")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hotdesk: %v\n%s", err, out)
	}
	return bin
}

// clientIP is the clients' own loopback address. Not 127.0.0.2: the demo
// office's trunk is 127.0.0.2, and the PBX takes calls from there as trunk
// calls.
const clientIP = "127.0.0.3"

// setUpNamespace brings lo up with a second loopback address and a default
// route over lo with that source address: linphone calls itself offline
// while its "local IP" is 127.0.0.1. It refuses to go on when any
// interface other than lo exists, so nothing can leave the machine.
func setUpNamespace(t *testing.T) {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Name != "lo" {
			t.Fatalf("not in a fresh network namespace: interface %s exists", i.Name)
		}
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", clientIP + "/8", "dev", "lo"},
		{"route", "add", "default", "dev", "lo", "src", clientIP},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
}
