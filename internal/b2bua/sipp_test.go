package b2bua_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// sippDir holds the scenario files, relative to this package.
var sippDir, _ = filepath.Abs(filepath.Join("..", "..", "test", "sipp"))

// providerIP is the loopback address the sipp "provider" uses, so that
// its source differs from the test phones' 127.0.0.1.
const providerIP = "127.0.0.2"

// freePort returns a port free on ip for both TCP and UDP: sipp binds its
// -p port on the transport it runs, and a port free only on UDP may be a
// busy TCP port under a full test run.
func freePort(tb testing.TB, ip string) int {
	tb.Helper()
	for range 20 {
		l, err := net.Listen("tcp", ip+":0")
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

// sippRun is one running sipp; Wait returns its error and the SIP
// messages it exchanged.
type sippRun struct {
	cmd  *exec.Cmd
	dir  string
	done chan error
	out  *strings.Builder
}

// startSipp runs one call (-m 1) of scenario on providerIP:port with extra
// args, for at most 30 s.
func startSipp(tb testing.TB, scenario string, port int, remote string, extra ...string) *sippRun {
	return startSippOn(tb, scenario, providerIP, port, remote, extra...)
}

// startSippOn is startSipp on local address ip.
func startSippOn(tb testing.TB, scenario, ip string, port int, remote string, extra ...string) *sippRun {
	tb.Helper()
	bin := siptest.MustSipp(tb)
	dir := tb.TempDir()
	args := []string{"-sf", filepath.Join(sippDir, scenario), "-m", "1", "-i", ip, "-p", fmt.Sprint(port),
		"-mi", ip, "-mp", fmt.Sprint(freePort(tb, ip)), "-nostdin",
		"-timeout", "20s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log")}
	args = append(args, extra...)
	if !slices.Contains(extra, "-t") {
		args = append(args, "-t", "u1")
	}
	if remote != "" {
		args = append([]string{remote}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	r := &sippRun{cmd: cmd, dir: dir, done: make(chan error, 1), out: &strings.Builder{}}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatal(err)
	}
	go func() { r.done <- cmd.Wait(); cancel() }()
	tb.Cleanup(func() { _ = cmd.Process.Kill(); <-r.done; r.done <- nil })
	return r
}

// Wait waits for sipp to finish and returns its message trace.
func (r *sippRun) Wait(tb testing.TB) string {
	tb.Helper()
	err := <-r.done
	r.done <- err
	msgs, _ := os.ReadFile(filepath.Join(r.dir, "messages.log"))
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(r.dir, "errors.log"))
		tb.Fatalf("sipp: %v\n%s\nerrors:\n%s\nmessages:\n%s", err, r.out.String(), errs, msgs)
	}
	return string(msgs)
}

// received returns the first SIP request of method sipp received.
func received(trace, method string) string {
	for _, block := range strings.Split(trace, "----------------------------------------------- ") {
		if !strings.Contains(block, "message received") {
			continue
		}
		_, msg, ok := strings.Cut(block, "\n\n")
		if !ok {
			_, msg, _ = strings.Cut(block, "\n")
		}
		msg = strings.TrimLeft(msg, "\r\n ")
		if strings.HasPrefix(msg, method+" ") {
			return msg
		}
	}
	return ""
}

// withTrunk points the site's trunk at the sipp provider on port.
func (p *pbx) withTrunk(tb testing.TB, port int) {
	tb.Helper()
	ctx := context.Background()
	st, err := p.store.GetSettings(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	st.Trunk = hotdesk.Trunk{Enabled: true, Proxy: fmt.Sprintf("%s:%d", providerIP, port), Username: "pbxuser", Password: "s3cret",
		Realm: "provider.test", Domain: "provider.test", Sources: []string{providerIP + "/32"}}
	if err := p.store.PutSettings(ctx, st); err != nil {
		tb.Fatal(err)
	}
}

// provider starts the sipp provider UAS on transport (sipp -t: u1 or t1)
// and points the trunk at it.
func (p *pbx) provider(tb testing.TB, transport string) *sippRun {
	tb.Helper()
	port := freePort(tb, providerIP)
	p.withTrunk(tb, port)
	r := startSipp(tb, "call_trunk_uas.xml", port, "", "-t", transport, "-key", "trunkuser", "pbxuser", "-key", "trunkpass", "s3cret")
	time.Sleep(300 * time.Millisecond) // let sipp bind
	return r
}

// deviceArgs are sipp's arguments to act as device (injection file with
// its digest credentials, the PBX's domain).
func deviceArgs(tb testing.TB, device string) []string {
	tb.Helper()
	inf := filepath.Join(tb.TempDir(), "users.csv")
	line := fmt.Sprintf("SEQUENTIAL\n%s;[authentication username=%s password=pw-%s]\n", device, device, device)
	if err := os.WriteFile(inf, []byte(line), 0o600); err != nil {
		tb.Fatal(err)
	}
	return []string{"-inf", inf, "-key", "domain", realm}
}
