package b2bua_test

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestBLFFollowsRealCalls: a phone watching 202's lamp (SUBSCRIBE dialog)
// sees 202's call go early, confirmed and terminated — the B2BUA's call
// events drive presence.
func TestBLFFollowsRealCalls(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	watcher := o.phone(t, "HD3")
	res, err := watcher.Subscribe("202", "dialog", 600)
	if err != nil || res.StatusCode/100 != 2 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	if _, err := watcher.WaitNotify(1, "dialog", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	c, err := o.hd1.Dial("202")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, watcher.Notifies, "confirmed")
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitState(t, watcher.Notifies, "terminated")
}

// waitState waits for a dialog NOTIFY whose body shows state.
func waitState(t *testing.T, notifies func() []*sip.Request, state string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		ns := notifies()
		if len(ns) > 0 && strings.Contains(string(ns[len(ns)-1].Body()), ">"+state+"</state>") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ns := notifies()
	last := ""
	if len(ns) > 0 {
		last = string(ns[len(ns)-1].Body())
	}
	t.Fatalf("no NOTIFY with state %s; last:\n%s", state, last)
}
