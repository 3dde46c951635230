package feature_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// Issue 11 item 6 through the phone: 30 wrong inline PINs (*35*201*0000)
// fired at once by sipp from one phone check exactly 5 PINs; the other 25
// are refused as locked without a check (they used to check 7 without
// locking).
func TestSippParallelWrongPINsLockAfterFive(t *testing.T) {
	p := sippPBX(t)
	const n = 30
	_, err := siptest.Sipp{Scenario: "login_inline.xml", Remote: p.addr(), User: "HD00001", Password: "pw-HD00001", Timeout: 40 * time.Second,
		Args: []string{"-s", "*35*201*0000", "-m", fmt.Sprint(n), "-l", fmt.Sprint(n), "-r", "1000", "-key", "domain", realm}}.Run(t)
	if err != nil {
		t.Fatal(err)
	}
	es, err := p.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLoginFailed}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, e := range es {
		reasons[e.Reason]++
	}
	t.Logf("%d parallel wrong PINs from one phone: %d checked, %d refused as locked", n, reasons[hotdesk.ReasonBadPIN], reasons[hotdesk.ReasonLocked])
	if reasons[hotdesk.ReasonBadPIN] != 5 || reasons[hotdesk.ReasonLocked] != n-5 {
		t.Fatalf("login_failed reasons %v, want 5 bad_pin and %d locked", reasons, n-5)
	}
	if p.loginAt(t, "HD00001") != "" {
		t.Fatal("logged in with a wrong PIN")
	}
}
