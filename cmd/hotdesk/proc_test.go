package main

// Helpers for the tests that run the real binary: build it once, start
// `hotdesk serve` processes, find their HTTP address in the banner, stop
// them with SIGINT.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// testBinary builds ./cmd/hotdesk once per test run and returns its path.
func testBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hotdesk-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "hotdesk")
		cmd := exec.Command("go", "build", "-o", builtBin, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// proc is a running `hotdesk` process.
type proc struct {
	cmd    *exec.Cmd
	stdout *siptest.Buffer
	stderr *siptest.Buffer
	done   chan struct{}
	err    error // exit status, once done is closed
}

// startProc starts the binary with args and env (added to the test's own)
// and stops it when the test ends.
func startProc(tb testing.TB, env []string, args ...string) *proc {
	tb.Helper()
	return startBin(tb, testBinary(tb), env, args...)
}

// startBin is startProc with another binary.
func startBin(tb testing.TB, bin string, env []string, args ...string) *proc {
	tb.Helper()
	p := &proc{stdout: &siptest.Buffer{}, stderr: &siptest.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() {
		p.stop(tb)
		if tb.Failed() {
			tb.Logf("%v printed last:\n%s", p.cmd.Args[1:min(len(p.cmd.Args), 8)], siptest.LastLines(p.stderr.String(), 40))
		}
	})
	return p
}

// dumpStacks makes the process print its goroutines' stacks (SIGQUIT, so
// it exits) and logs those whose stack names one of the packages.
func (p *proc) dumpStacks(tb testing.TB, pkgs ...string) {
	tb.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	for _, g := range strings.Split(p.stderr.String(), "\n\ngoroutine ") {
		for _, pkg := range pkgs {
			if strings.Contains(g, pkg) {
				tb.Logf("goroutine %s", g)
				break
			}
		}
	}
}

// stop sends SIGINT and waits up to 15 s, then kills.
func (p *proc) stop(tb testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		tb.Errorf("%v did not stop on SIGINT within 15 s", p.cmd.Args)
	}
}

// wait waits for the process to exit (bounded) and returns its error.
func (p *proc) wait(tb testing.TB, d time.Duration) error {
	tb.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		tb.Fatalf("%v still running after %v\nstdout:\n%s\nstderr:\n%s", p.cmd.Args, d, p.stdout, p.stderr)
		return nil
	}
}

var consoleRE = regexp.MustCompile(`Admin console:\s+(http://\S+?)/\s`)

// bannerEnd starts the banner's last line.
const bannerEnd = "Forgot the console password?"

// baseURL waits until the whole banner is printed (the server is listening
// then) and returns the HTTP address it names; it fails the test if the
// process exits.
func (p *proc) baseURL(tb testing.TB, d time.Duration) string {
	tb.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		// The whole banner: its SIP lines come after the console's.
		if out := p.stdout.String(); strings.Contains(out, bannerEnd) {
			if m := consoleRE.FindStringSubmatch(out); m != nil {
				return m[1]
			}
		}
		select {
		case <-p.done:
			tb.Fatalf("%v exited: %v\nstdout:\n%s\nstderr:\n%s", p.cmd.Args, p.err, p.stdout, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatalf("%v printed no banner within %v\nstdout:\n%s\nstderr:\n%s", p.cmd.Args, d, p.stdout, p.stderr)
	return ""
}

// get does a GET with an optional bearer token and returns status and body.
func get(tb testing.TB, url, token string) (int, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// serveArgs are the flags of a test server on loopback with free ports.
func serveArgs(dataDir string, extra ...string) []string {
	return append([]string{"serve", "--data", dataDir, "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--public-ip", "127.0.0.1", "--rtp-ports", "32000-32999", "--log-level", "warn"}, extra...)
}
