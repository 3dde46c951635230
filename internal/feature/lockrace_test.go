package feature_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	bin := siptest.MustSipp(t)
	p := sippPBX(t)
	const n = 30
	dir := t.TempDir()
	inf := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(inf, []byte("SEQUENTIAL\nHD00001;[authentication username=HD00001 password=pw-HD00001]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{p.addr(), "-sf", filepath.Join(sippDir, "login_inline.xml"), "-inf", inf, "-s", "*35*201*0000",
		"-m", fmt.Sprint(n), "-l", fmt.Sprint(n), "-r", "1000", "-t", "u1", "-i", "127.0.0.1",
		"-p", fmt.Sprint(freeUDPPort(t)), "-mi", "127.0.0.1", "-mp", fmt.Sprint(freeUDPPort(t)), "-nostdin",
		"-key", "domain", realm, "-timeout", "40s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp: %v\n%s\n%s", err, tail(string(out), 5), tail(string(errs), 40))
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
