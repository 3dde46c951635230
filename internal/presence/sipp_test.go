package presence

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// sippDir holds the scenario files, relative to this package.
var sippDir, _ = filepath.Abs(filepath.Join("..", "..", "test", "sipp"))

func freeUDPPort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sippRun is a sipp process running one call of a scenario.
type sippRun struct {
	cmd  *exec.Cmd
	dir  string
	out  strings.Builder
	done chan error
}

// StartBLFWatcher runs test/sipp/blf_subscriber.xml against the SIP server
// at addr as device user/password watching ext. It is the hook for
// whole-PBX tests: anything that publishes the user's call events (the
// B2BUA in e2e, the bus here) drives it.
func startBLFWatcher(tb testing.TB, addr, user, password, ext string) *sippRun {
	tb.Helper()
	bin := siptest.MustSipp(tb)
	r := &sippRun{dir: tb.TempDir(), done: make(chan error, 1)}
	inf := filepath.Join(r.dir, "users.csv")
	if err := os.WriteFile(inf, []byte("SEQUENTIAL\n"+user+";[authentication username="+user+" password="+password+"]\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	r.cmd = exec.CommandContext(ctx, bin, addr, "-sf", filepath.Join(sippDir, "blf_subscriber.xml"), "-inf", inf,
		"-m", "1", "-t", "u1", "-i", "127.0.0.1", "-p", fmt.Sprint(freeUDPPort(tb)), "-nostdin",
		"-timeout", "20s", "-timeout_error", "-key", "domain", testRealm, "-key", "ext", ext,
		"-trace_err", "-error_file", filepath.Join(r.dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(r.dir, "messages.log"))
	r.cmd.Dir = r.dir
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	return r
}

// wait returns sipp's verdict with its logs on failure.
func (r *sippRun) wait(tb testing.TB) error {
	tb.Helper()
	err := <-r.done
	if err == nil {
		return nil
	}
	errs, _ := os.ReadFile(filepath.Join(r.dir, "errors.log"))
	msgs, _ := os.ReadFile(filepath.Join(r.dir, "messages.log"))
	return fmt.Errorf("sipp: %w\n%s\nerrors:\n%s\nmessages:\n%s", err, r.out.String(), errs, msgs)
}

// TestSippBLFWatcher: a real SIP peer (sipp) subscribes to 202 with digest
// auth and sees terminated → early → confirmed → terminated while 202
// takes a call on hot desk phone HD00001, then the same after 202 roamed
// to HD00002, then unsubscribes.
func TestSippBLFWatcher(t *testing.T) {
	h := mustStart(t, true)
	r := startBLFWatcher(t, h.srv.UDPAddr().String(), "HD00003", "pw-HD00003", "202")
	failed := func() bool {
		select {
		case err := <-r.done:
			r.done <- err
			return true
		default:
			return false
		}
	}
	waitAnswered := func(n int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if h.pres.Answered() >= n {
				return
			}
			if failed() {
				t.Fatal(r.wait(t))
			}
		}
		t.Fatalf("NOTIFY %d not answered\n%v", n, r.wait(t))
	}
	waitAnswered(1) // the initial, idle NOTIFY
	steps := []struct{ kind, device, callID string }{
		{events.KindCallEarly, "HD00001", "call-1"},
		{events.KindCallConfirmed, "HD00001", "call-1"},
		{events.KindCallTerminated, "HD00001", "call-1"},
		{events.KindCallEarly, "HD00002", "call-2"}, // 202 roamed to HD00002
		{events.KindCallConfirmed, "HD00002", "call-2"},
		{events.KindCallTerminated, "HD00002", "call-2"},
	}
	for i, s := range steps {
		h.call(s.kind, "202", s.device, s.callID)
		waitAnswered(int64(i + 2))
	}
	if err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unsubscribed", func() bool { return h.pres.Subscriptions() == 0 })
}
