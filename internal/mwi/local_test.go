package mwi_test

import (
	"testing"
	"time"
)

// Every node hears every login; a node where the phone has no contact and
// no subscription reads no mailbox for it (with several nodes that read
// was one more store query per login on every node).
func TestNoMailboxReadForPhonesNotHere(t *testing.T) {
	h := mustStart(t, nil)
	h.counts.set("201", 1, 0)
	h.login(t, "201", "HD00001") // HD00001 is not registered here
	h.deposit("201", 2, 0)
	time.Sleep(300 * time.Millisecond)
	if n := h.counts.readCount(); n != 0 {
		t.Fatalf("%d mailbox reads for a phone with no contact on this node, want 0", n)
	}
	b := h.phone(t, "HD00002")
	h.login(t, "202", "HD00002")
	waitSummary(t, b, summary{"no", "sip:202@pbx.test", "0/0 (0/0)"})
	if n := h.counts.readCount(); n == 0 {
		t.Fatal("no mailbox read for the registered phone")
	}
}
