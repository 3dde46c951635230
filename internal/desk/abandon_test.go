package desk

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestLoginAbandonedIsAuditedAndLocksNothing: an abandoned prompted login
// is a login_failed row and event, and neither counts towards the lockout
// nor resets the count of bad PINs around it.
func TestLoginAbandonedIsAuditedAndLocksNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	devices := []string{"HD00001", "HD00002", "HD00003"}
	for i := range MaxFailures - 1 {
		if err := f.badPIN(t, "201", devices[i%3]); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		f.clock.Advance(time.Minute)
	}
	f.drain()
	for range MaxFailures {
		if err := f.svc.LoginAbandoned(ctx, "201", "HD00001", hotdesk.ReasonTimeout, StagePIN, "192.0.2.9:5060"); err != nil {
			t.Fatal(err)
		}
	}
	if evs := f.drain(); len(evs) != MaxFailures || evs[0] != "login_failed 201 HD00001 timeout" {
		t.Errorf("events %q", evs)
	}
	if !slices.Contains(f.auditTrail(), "login_failed 201 HD00001 timeout pin") {
		t.Errorf("audit %q", f.auditTrail())
	}
	// Still unlocked: the right PIN logs in ...
	if _, err := f.svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00001", PIN: "1234", CheckPIN: true}); err != nil {
		t.Fatalf("right PIN after abandoned logins: %v", err)
	}
}

func TestLoginAbandonedDoesNotResetBadPINs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	devices := []string{"HD00001", "HD00002", "HD00003"}
	for i := range MaxFailures {
		if i == 2 {
			if err := f.svc.LoginAbandoned(ctx, "201", "HD00001", hotdesk.ReasonHangup, StagePIN, "x"); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.badPIN(t, "201", devices[i%3]); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		f.clock.Advance(time.Minute)
	}
	_, err := f.svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00004", PIN: "1234", CheckPIN: true})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("five bad PINs with an abandoned login between them: %v, want locked", err)
	}
}
