package app

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

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// freeUDP returns a UDP port free on 127.0.0.1 at the time of the call.
func freeUDP(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startSipp runs calls (all at once) of scenario from demo device dev
// dialling number, each holding for hold; wait returns sipp's verdict.
func startSipp(tb testing.TB, r *running, scenario, dev, number string, calls int, hold time.Duration) (wait func() error) {
	tb.Helper()
	bin := siptest.MustSipp(tb)
	dir := tb.TempDir()
	inf := filepath.Join(dir, "users.csv")
	line := fmt.Sprintf("SEQUENTIAL\n%s;[authentication username=%s password=%s]\n", dev, dev, DemoPassword(dev))
	if err := os.WriteFile(inf, []byte(line), 0o600); err != nil {
		tb.Fatal(err)
	}
	sf, err := filepath.Abs(filepath.Join("..", "..", "test", "sipp", scenario))
	if err != nil {
		tb.Fatal(err)
	}
	args := []string{r.SIPAddr(), "-sf", sf, "-inf", inf, "-s", number, "-m", fmt.Sprint(calls), "-l", fmt.Sprint(calls),
		"-r", "100", "-d", fmt.Sprint(hold.Milliseconds()), "-t", "u1", "-i", "127.0.0.1", "-p", fmt.Sprint(freeUDP(tb)),
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(freeUDP(tb)), "-nostdin", "-key", "domain", r.cfg.Domain,
		"-timeout", "30s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); cancel() }()
	tb.Cleanup(func() { cancel(); <-done })
	return func() error {
		err := <-done
		done <- err // for the cleanup
		if err != nil {
			errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
			return fmt.Errorf("sipp %s from %s: %w\n%s\nerrors:\n%s", scenario, dev, err, lastLines(out.String(), 4), lastLines(string(errs), 30))
		}
		return nil
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// The per-device call limit against a real peer: sipp holds 4 feature-code
// calls from HD00001; a 5th call from HD00001 gets 486 Busy Here, a call
// from HD00002 meanwhile is answered.
func TestSippFifthCallFromOneDeviceIsBusy(t *testing.T) {
	cfg := testConfig(t.TempDir(), true)
	cfg.Digest = "MD5" // sipp 3.6 answers only an MD5 challenge
	r := mustStart(t, cfg)
	holding := startSipp(t, r, "call_uac_hold.xml", "HD00001", "*35", 4, 4*time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for r.feature.Active() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 4 calls up; sipp: %v", r.feature.Active(), holding())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := startSipp(t, r, "call_uac_busy.xml", "HD00001", "*35", 1, 0)(); err != nil {
		t.Fatalf("5th call from HD00001: %v", err)
	}
	if err := startSipp(t, r, "call_uac.xml", "HD00002", "*35", 1, 0)(); err != nil {
		t.Fatalf("a call from HD00002 meanwhile: %v", err)
	}
	if err := holding(); err != nil {
		t.Fatalf("the 4 held calls: %v", err)
	}
}

// A feature-code call whose 200 is never ACKed (the caller vanished) frees
// its RTP port when the 200's retransmissions end (Timer H, 64*T1 = 32 s),
// not after the BYE to the vanished caller has timed out too (10 s more:
// 42.6 s before). With a one-port pool another phone's call is answered
// again then.
func TestSippUnackedCallFreesItsPort(t *testing.T) {
	cfg := testConfig(t.TempDir(), true)
	cfg.Digest = "MD5"
	cfg.RTPPorts = "39870-39871" // one even port, outside the other tests' ranges
	r := mustStart(t, cfg)
	if err := startSipp(t, r, "call_uac_noack.xml", "HD00001", "*35", 1, 0)(); err != nil {
		t.Fatalf("unacked call: %v", err)
	}
	start := time.Now()
	hd2 := demoPhone(t, r, "HD00002")
	for {
		c, err := hd2.Dial("*35")
		if err == nil {
			c.Hangup()
			break
		}
		if !strings.Contains(err.Error(), "503") {
			t.Fatalf("while the port is taken: %v, want 503", err)
		}
		if time.Since(start) > 37*time.Second {
			t.Fatal("the port is still taken 37 s after the unacked 200 (Timer H is 32 s)")
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("port free again %v after the unacked 200", time.Since(start).Round(100*time.Millisecond))
}
