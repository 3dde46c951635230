package main

// Issue 14: a node the others declared lost comes back — restarted after
// kill -9, or woken after a freeze (SIGSTOP/SIGCONT, as a partition from
// the database looks to the others). Its phones that stayed are registered
// again at once (audited registered, node_back); a phone that registered
// with another node meanwhile stays there only; a restarted node catches
// up on the events committed while it was down.

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/app"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// twoNodes starts a (demo) and b, a phone HD00002 on b and a new phone on
// b that will move to a; it returns them and b's data directory.
func twoNodes(t *testing.T, ports string) (a, b *node, db, dirB string, hd2, mover *siptest.Phone, moverID string) {
	db = mustCluster(t)
	a = startNode(t, "a", "127.0.0.1", db, ports+"000-"+ports+"199", true)
	dirB = t.TempDir()
	b = startNodeIn(t, dirB, "b", "127.0.0.2", db, ports+"200-"+ports+"399", false)
	hd2 = phoneAt(t, b, "HD00002", app.DemoPassword("HD00002"))
	var dev struct {
		ID          string `json:"id"`
		SIPPassword string `json:"sip_password"`
	}
	if code := a.api(t, "POST", "/devices", `{"label":"moves"}`, &dev); code != http.StatusCreated {
		t.Fatalf("POST /devices: %d", code)
	}
	mover = phoneAt(t, b, dev.ID, dev.SIPPassword)
	for _, d := range []string{"HD00002", dev.ID} {
		testrun.Eventually(t, 5*time.Second, d+" shown registered at b", func() bool { return a.registration(t, d) == "b" })
	}
	return a, b, db, dirB, hd2, mover, dev.ID
}

// lost waits until a shows b's phones unregistered, then moves the mover
// phone to a.
func lost(t *testing.T, a *node, mover *siptest.Phone, moverID string) {
	testrun.Eventually(t, nodeTimeout+5*time.Second, "HD00002 shown unregistered once b is declared lost", func() bool {
		return a.registration(t, "HD00002") == ""
	})
	mover.SetServer(a.sip)
	mover.MustRegister(t)
	testrun.Eventually(t, 5*time.Second, moverID+" shown registered at a after moving there", func() bool {
		return a.registration(t, moverID) == "a"
	})
}

// back checks, once b is back, that HD00002 is registered at b again
// (audited), and that the phone that moved is registered at a only.
func back(t *testing.T, a *node, moverID string) {
	took := testrun.Eventually(t, 10*time.Second, "HD00002 registered at b again", func() bool {
		return a.registration(t, "HD00002") == "b"
	})
	t.Logf("HD00002 registered at b again %v after b was back", took.Round(time.Millisecond))
	var audit []hotdesk.AuditEvent
	if code := a.api(t, "GET", "/audit?device=HD00002&kind=registered", "", &audit); code != http.StatusOK {
		t.Fatalf("GET /audit: %d", code)
	}
	if len(audit) == 0 || audit[0].Reason != "node_back" {
		t.Errorf("HD00002's last registered audit: %+v, want reason node_back", audit)
	}
	// Long enough for b's registrar to have written what it holds.
	time.Sleep(1500 * time.Millisecond)
	if got := a.registration(t, moverID); got != "a" {
		t.Errorf("%s, registered with a while b was away: registered at %q, want a only", moverID, got)
	}
}

func TestRestartedLostNodeComesBack(t *testing.T) {
	a, b, db, dirB, hd2, mover, moverID := twoNodes(t, "33")
	// b follows the event log (a login through a reaches its phone)
	// before it is killed.
	syncs, _ := hd2.WaitNotify(0, "check-sync", 0) // message-summary NOTIFYs come too
	n := len(syncs)
	if code := a.api(t, "POST", "/logins", `{"extension":"202","device":"HD00002"}`, nil); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("POST /logins 202@HD00002: %d", code)
	}
	if _, err := hd2.WaitNotify(n+1, "check-sync", 10*time.Second); err != nil {
		t.Fatalf("HD00002 on b got no check-sync for a login through a: %v", err)
	}
	_ = b.p.cmd.Process.Signal(syscall.SIGKILL)
	<-b.p.done
	lost(t, a, mover, moverID)
	// While b is down 201 logs in on HD00002 through a: the phone learns
	// it from b once b is back (the event log, from where b left off).
	if code := a.api(t, "POST", "/logins", `{"extension":"201","device":"HD00002"}`, nil); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("POST /logins 201@HD00002: %d", code)
	}
	syncs, _ = hd2.WaitNotify(0, "check-sync", 0)
	before := len(syncs)
	time.Sleep(500 * time.Millisecond)
	// Same data directory (node id) and SIP address.
	startNodeIn(t, dirB, "b", "127.0.0.2", db, "33200-33399", false, "--sip", b.sip, "--sip-tls", "127.0.0.2:0", "--log-level", "info")
	if _, err := hd2.WaitNotify(before+1, "check-sync", 10*time.Second); err != nil {
		t.Errorf("HD00002 got no check-sync from the restarted b for the login made while it was down: %v", err)
	}
	back(t, a, moverID)
}

func TestFrozenLostNodeComesBack(t *testing.T) {
	a, b, _, _, _, mover, moverID := twoNodes(t, "34")
	_ = b.p.cmd.Process.Signal(syscall.SIGSTOP)
	lost(t, a, mover, moverID)
	t.Cleanup(func() {
		if t.Failed() {
			// What b's roster and store were doing (Go prints every
			// goroutine's stack on SIGQUIT).
			b.p.dumpStacks(t, "internal/nodes", "internal/store", "internal/cluster", "database/sql")
		}
	})
	_ = b.p.cmd.Process.Signal(syscall.SIGCONT)
	back(t, a, moverID)
}
