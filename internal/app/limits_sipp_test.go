package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// startSipp runs calls (all at once) of scenario from demo device dev
// dialling number, each holding for hold; wait returns sipp's verdict.
func startSipp(tb testing.TB, r *running, scenario, dev, number string, calls int, hold time.Duration) (wait func() error) {
	tb.Helper()
	run := siptest.Sipp{Scenario: scenario, Remote: r.SIPAddr(), User: dev, Password: DemoPassword(dev), Timeout: 30 * time.Second,
		Args: []string{"-s", number, "-m", fmt.Sprint(calls), "-l", fmt.Sprint(calls), "-r", "100",
			"-d", fmt.Sprint(hold.Milliseconds()), "-key", "domain", r.cfg.Domain}}.Start(tb)
	return func() error { _, err := run.Wait(); return err }
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
