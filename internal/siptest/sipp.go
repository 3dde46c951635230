package siptest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// MustSipp returns the path of sipp (Debian's sip-tester), the real SIP
// peer of the protocol tests. Without it the test is skipped, except on CI
// (CI set), where scripts/test installs it and a missing sipp is a failure.
func MustSipp(tb testing.TB) string {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("sipp tests run on Linux")
	}
	bin, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("sipp not installed")
		}
		tb.Skip("sipp not installed (Debian package sip-tester)")
	}
	return bin
}

// SippScenario is the path of a scenario file in test/sipp.
func SippScenario(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "test", "sipp", name)
}

// FreePort returns a port free on ip for both TCP and UDP a moment ago:
// sipp binds its -p port on the transport it runs, and a port free only
// on UDP may be a busy TCP port under a full test run.
func FreePort(tb testing.TB, ip string) int {
	tb.Helper()
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			tb.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, fmt.Sprint(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	tb.Fatal("no port free on both TCP and UDP")
	return 0
}

// FreeMediaPorts returns an even port p on ip with p…p+3 free on UDP a
// moment ago: sipp's -mp binds audio RTP/RTCP at p, p+1 and video at p+2,
// p+3 (a run fails at start when any is taken, as under a full test run).
func FreeMediaPorts(tb testing.TB, ip string) int {
	tb.Helper()
	for range 50 {
		base := FreePort(tb, ip) &^ 1
		if base > 65532 {
			continue
		}
		var held []net.PacketConn
		ok := true
		for p := base; p < base+4; p++ {
			c, err := net.ListenPacket("udp", net.JoinHostPort(ip, fmt.Sprint(p)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base
		}
	}
	tb.Fatal("no four UDP ports in a row free for sipp's media")
	return 0
}

// Sipp is one run of a sipp scenario on loopback, keeping sipp's error and
// message logs for the report when it fails.
type Sipp struct {
	Scenario string // file name in test/sipp
	Remote   string // the address it sends to; "" for a scenario that waits (UAS)
	IP       string // local address; default 127.0.0.1
	Port     int    // local SIP port; 0: a free one
	// User and Password, when User is set, are the digest credentials
	// ("[authentication]") and field 0 of an injection file.
	User, Password string
	// Args are further sipp arguments; "-m 1" and "-t u1" apply unless
	// Args give -m or -t.
	Args []string
	// Timeout is sipp's own -timeout for the whole run (default 20 s); the
	// process is killed 20 s after it.
	Timeout time.Duration
}

// SippRun is a started Sipp.
type SippRun struct {
	name string
	dir  string
	out  strings.Builder // sipp's stdout and stderr; read after done
	done chan struct{}
	err  error
}

// Start starts s; the test's cleanup kills it if it still runs.
func (s Sipp) Start(tb testing.TB) *SippRun {
	tb.Helper()
	bin := MustSipp(tb)
	ip, port, timeout := s.IP, s.Port, s.Timeout
	if ip == "" {
		ip = "127.0.0.1"
	}
	if port == 0 {
		port = FreePort(tb, ip)
	}
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	r := &SippRun{name: s.Scenario, dir: tb.TempDir(), done: make(chan struct{})}
	var args []string
	if s.Remote != "" {
		args = append(args, s.Remote)
	}
	args = append(args, "-sf", SippScenario(s.Scenario), "-i", ip, "-p", fmt.Sprint(port),
		"-mi", ip, "-mp", fmt.Sprint(FreeMediaPorts(tb, ip)), "-nostdin", "-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())),
		"-timeout_error", "-trace_err", "-error_file", filepath.Join(r.dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(r.dir, "messages.log"))
	if s.User != "" {
		inf := filepath.Join(r.dir, "users.csv")
		line := fmt.Sprintf("SEQUENTIAL\n%s;[authentication username=%s password=%s]\n", s.User, s.User, s.Password)
		if err := os.WriteFile(inf, []byte(line), 0o600); err != nil {
			tb.Fatal(err)
		}
		args = append(args, "-inf", inf)
	}
	if !slices.Contains(s.Args, "-m") {
		args = append(args, "-m", "1")
	}
	if !slices.Contains(s.Args, "-t") {
		args = append(args, "-t", "u1")
	}
	args = append(args, s.Args...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+20*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = &r.out, &r.out
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatal(err)
	}
	go func() {
		r.err = cmd.Wait()
		cancel()
		close(r.done)
	}()
	tb.Cleanup(func() { cancel(); <-r.done })
	// Ready when its port is bound (TCP and TLS listen), so that what the
	// test does next reaches it even on a loaded machine.
	transport := args[slices.Index(args, "-t")+1]
	if !waitBound(transport[0] != 'u', ip, port, r.done, 10*time.Second) {
		tb.Logf("sipp %s: port %s:%d not bound within 10 s", s.Scenario, ip, port)
	}
	return r
}

// Run starts s and waits for it.
func (s Sipp) Run(tb testing.TB) (messages string, err error) {
	tb.Helper()
	return s.Start(tb).Wait()
}

// Wait waits for sipp to end and returns the SIP messages it exchanged,
// and, when a call failed, an error holding the end of its output, its
// error log and the last messages. It may be called more than once.
func (r *SippRun) Wait() (messages string, err error) {
	<-r.done
	msgs, _ := os.ReadFile(filepath.Join(r.dir, "messages.log"))
	if r.err == nil {
		return string(msgs), nil
	}
	errs, _ := os.ReadFile(filepath.Join(r.dir, "errors.log"))
	return string(msgs), fmt.Errorf("sipp %s: %w\n%s\nerrors:\n%s\nmessages:\n%s", r.name, r.err,
		LastLines(r.out.String(), 4), LastLines(string(errs), 40), LastLines(string(msgs), 60))
}

// Done is closed when sipp has ended.
func (r *SippRun) Done() <-chan struct{} { return r.done }

// MustWait is Wait that fails the test when sipp failed.
func (r *SippRun) MustWait(tb testing.TB) (messages string) {
	tb.Helper()
	msgs, err := r.Wait()
	if err != nil {
		tb.Fatal(err)
	}
	return msgs
}

// LastLines returns the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
