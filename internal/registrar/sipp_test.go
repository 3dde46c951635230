package registrar

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

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// sippDir holds the scenario files, relative to this package.
var sippDir, _ = filepath.Abs(filepath.Join("..", "..", "test", "sipp"))

// freePort returns a port free on loopback for both UDP and TCP.
func freePort(tb testing.TB) int {
	tb.Helper()
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	tb.Fatal("no free port")
	return 0
}

// runSipp runs one call of scenario against h for user;password over
// transport ("udp" or "tcp") and returns sipp's error when the call failed.
func runSipp(tb testing.TB, h *harness, scenario, transport, user, password string, keys ...string) error {
	tb.Helper()
	bin := siptest.MustSipp(tb)
	dir := tb.TempDir()
	inf := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(inf, []byte("SEQUENTIAL\n"+user+";[authentication username="+user+" password="+password+"]\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	mode, addr := "u1", h.srv.UDPAddr().String()
	if transport == "tcp" {
		mode, addr = "t1", h.srv.TCPAddr().String()
	}
	args := []string{addr, "-sf", filepath.Join(sippDir, scenario), "-inf", inf, "-m", "1",
		"-t", mode, "-i", "127.0.0.1", "-p", fmt.Sprint(freePort(tb)), "-nostdin",
		"-timeout", "10s", "-timeout_error", "-key", "domain", testRealm,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log")}
	if !slices.Contains(keys, "expires") {
		keys = append(keys, "expires", "3600")
	}
	for i := 0; i+1 < len(keys); i += 2 {
		args = append(args, "-key", keys[i], keys[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		msgs, _ := os.ReadFile(filepath.Join(dir, "messages.log"))
		return fmt.Errorf("sipp %s over %s: %w\n%s\nerrors:\n%s\nmessages:\n%s", scenario, transport, err,
			lastLines(string(out), 3), errs, lastLines(string(msgs), 60))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func sippTransports(t *testing.T, f func(t *testing.T, transport string)) {
	if runtime.GOOS != "linux" {
		t.Skip("sipp tests run on Linux")
	}
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) { f(t, tr) })
	}
}

// TestSippRegister runs with the default digest: sipp 3.6 answers only the
// first challenge and knows only MD5, so it registers only if MD5 is the
// default.
func TestSippRegister(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		store := newFakeStore()
		store.addDevice("HD00001", "s3cret")
		h := mustStart(t, store, newClock(), nil)
		if err := runSipp(t, h, "register_ok.xml", tr, "HD00001", "s3cret"); err != nil {
			t.Fatal(err)
		}
		bs := h.reg.Contacts("HD00001")
		if len(bs) != 1 || bs[0].Transport != tr || bs[0].UserAgent != "sipp" {
			t.Fatalf("contacts after sipp: %+v", bs)
		}
	})
}

func TestSippWrongPasswordAndUnknownDevice(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		store := newFakeStore()
		store.addDevice("HD00001", "s3cret")
		h := mustStart(t, store, newClock(), nil)
		if err := runSipp(t, h, "register_forbidden.xml", tr, "HD00001", "wrong"); err != nil {
			t.Fatal(err)
		}
		if err := runSipp(t, h, "register_forbidden.xml", tr, "HD09999", "s3cret"); err != nil {
			t.Fatal(err)
		}
		if len(h.reg.Contacts("HD00001")) != 0 {
			t.Fatal("binding after wrong password")
		}
	})
}

func TestSippExpiryBounds(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		store := newFakeStore()
		store.addDevice("HD00001", "s3cret")
		clock := newClock()
		h := mustStart(t, store, clock, nil)
		if err := runSipp(t, h, "register_too_brief.xml", tr, "HD00001", "s3cret", "expires", "30"); err != nil {
			t.Fatal(err)
		}
		if len(h.reg.Contacts("HD00001")) != 0 {
			t.Fatal("binding after 423")
		}
		if err := runSipp(t, h, "register_ok.xml", tr, "HD00001", "s3cret", "expires", "86400"); err != nil {
			t.Fatal(err)
		}
		bs := h.reg.Contacts("HD00001")
		if len(bs) != 1 || !bs[0].Expires.Equal(clock.Now().Add(time.Hour)) {
			t.Fatalf("want one binding capped at 3600s, got %+v", bs)
		}
	})
}

func TestSippUnregister(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		store := newFakeStore()
		store.addDevice("HD00001", "s3cret")
		h := mustStart(t, store, newClock(), nil)
		if err := runSipp(t, h, "register_unregister.xml", tr, "HD00001", "s3cret"); err != nil {
			t.Fatal(err)
		}
		if bs := h.reg.Contacts("HD00001"); len(bs) != 0 {
			t.Fatalf("still registered: %+v", bs)
		}
	})
}

func TestSippRestartKeepsBindings(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		store := newFakeStore()
		store.addDevice("HD00001", "s3cret")
		clock := newClock()
		h := mustStart(t, store, clock, nil)
		if err := runSipp(t, h, "register_ok.xml", tr, "HD00001", "s3cret"); err != nil {
			t.Fatal(err)
		}
		before := h.reg.Contacts("HD00001")
		h.stop()
		h2 := mustStart(t, store, clock, nil)
		after := h2.reg.Contacts("HD00001")
		if len(after) != 1 || after[0].Contact != before[0].Contact || !after[0].Expires.Equal(before[0].Expires) {
			t.Fatalf("before restart %+v, after %+v", before, after)
		}
	})
}
