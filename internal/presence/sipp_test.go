package presence

import (
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// startBLFWatcher runs test/sipp/blf_subscriber.xml against the SIP
// server at addr as device user/password watching ext. It is the hook for
// whole-PBX tests: anything that publishes the user's call events (the
// B2BUA in e2e, the bus here) drives it.
func startBLFWatcher(tb testing.TB, addr, user, password, ext string) *siptest.SippRun {
	tb.Helper()
	return siptest.Sipp{Scenario: "blf_subscriber.xml", Remote: addr, User: user, Password: password,
		Args: []string{"-key", "domain", testRealm, "-key", "ext", ext}}.Start(tb)
}

// TestSippBLFWatcher: a real SIP peer (sipp) subscribes to 202 with digest
// auth and sees terminated → early → confirmed → terminated while 202
// takes a call on hot desk phone HD00001, then the same after 202 roamed
// to HD00002, then unsubscribes.
func TestSippBLFWatcher(t *testing.T) {
	h := mustStart(t, true)
	r := startBLFWatcher(t, h.srv.UDPAddr().String(), "HD00003", "pw-HD00003", "202")
	wait := func() error { _, err := r.Wait(); return err }
	failed := func() bool {
		select {
		case <-r.Done():
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
				t.Fatal(wait())
			}
		}
		t.Fatalf("NOTIFY %d not answered\n%v", n, wait())
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
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	testrun.Eventually(t, 5*time.Second, "unsubscribed", func() bool { return h.pres.Subscriptions() == 0 })
}
