package desk

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func (f *fixture) badPIN(t *testing.T, ext, device string) error {
	t.Helper()
	_, err := f.svc.Login(context.Background(), LoginRequest{Extension: ext, Device: device, PIN: "0000", CheckPIN: true, Source: "192.0.2.9:5060"})
	return err
}

func TestFiveBadPINsLockTheUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range MaxFailures {
		// Spread over phones so the per-device lock does not interfere.
		if err := f.badPIN(t, "201", []string{"HD00001", "HD00002"}[i%2]); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		f.clock.Advance(time.Minute)
	}
	_, err := f.svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00003", PIN: "1234", CheckPIN: true})
	if !errors.Is(err, ErrLocked) || hotdesk.ErrorCode(err) != hotdesk.ELOCKED {
		t.Fatalf("right PIN while locked: %v", err)
	}
	_, err = f.svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00003", Via: hotdesk.ViaAPI})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("admin login while locked: %v", err)
	}
	if err := f.svc.VerifyPIN(ctx, "201", "1234", "HD00003", "x"); !errors.Is(err, ErrLocked) {
		t.Fatalf("VerifyPIN while locked: %v", err)
	}
	locked := 0
	for _, line := range f.auditTrail() {
		if strings.HasPrefix(line, "locked 201 ") {
			locked++
		}
	}
	if locked != 1 {
		t.Fatalf("locked audit rows %d: %q", locked, f.auditTrail())
	}
	// Another user is not affected.
	f.MustLogin(t, "202", "HD00004")

	// The lock lasts LockFor from the fifth failure.
	f.clock.Advance(LockFor - 2*time.Minute)
	if err := f.svc.VerifyPIN(ctx, "201", "1234", "", "x"); !errors.Is(err, ErrLocked) {
		t.Fatalf("before expiry: %v", err)
	}
	f.clock.Advance(2 * time.Minute)
	f.MustLogin(t, "201", "HD00003")
}

func TestFailuresOutsideWindowDoNotLock(t *testing.T) {
	f := newFixture(t)
	for i := range 2 * MaxFailures {
		if err := f.badPIN(t, "201", []string{"HD00001", "HD00002", "HD00003"}[i%3]); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		f.clock.Advance(FailureWindow/(MaxFailures-1) + time.Second)
	}
}

func TestSuccessfulLoginResetsFailureCount(t *testing.T) {
	f := newFixture(t)
	for i := range MaxFailures - 1 {
		f.badPIN(t, "201", []string{"HD00001", "HD00002"}[i%2])
	}
	f.MustLogin(t, "201", "HD00003")
	if err := f.badPIN(t, "201", "HD00004"); !errors.Is(err, ErrBadPIN) {
		t.Fatal(err)
	}
	f.MustLogin(t, "201", "HD00003")
}

func TestUnlockClearsLockAndFailures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range MaxFailures {
		f.badPIN(t, "201", []string{"HD00001", "HD00002"}[i%2])
	}
	if err := f.svc.VerifyPIN(ctx, "201", "1234", "", "x"); !errors.Is(err, ErrLocked) {
		t.Fatalf("not locked: %v", err)
	}
	if err := f.svc.Unlock(ctx, "201", "api"); err != nil {
		t.Fatal(err)
	}
	// One more failure right after the unlock must not re-lock.
	f.badPIN(t, "201", "HD00003")
	f.MustLogin(t, "201", "HD00003")
	if err := f.svc.Unlock(ctx, "299", "api"); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("unlock unknown: %v", err)
	}
}

func TestFiveBadPINsFromOneDeviceLockTheDevice(t *testing.T) {
	f := newFixture(t)
	for i, ext := range []string{"201", "202", "203", "204", "205"} {
		if err := f.badPIN(t, ext, "HD00001"); !errors.Is(err, ErrBadPIN) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, err := f.svc.Login(context.Background(), LoginRequest{Extension: "206", Device: "HD00001", PIN: "1234", CheckPIN: true})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("login from locked device: %v", err)
	}
	f.MustLogin(t, "206", "HD00002") // other phones are fine
	if err := f.svc.UnlockDevice(context.Background(), "HD00001", "api"); err != nil {
		t.Fatal(err)
	}
	f.MustLogin(t, "207", "HD00001")
}

func TestPINHashing(t *testing.T) {
	h1, err := HashPIN("1234")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPIN("1234")
	if h1 == h2 {
		t.Fatal("same hash twice: no salt")
	}
	if !regexp.MustCompile(`^pbkdf2-sha256\$\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$`).MatchString(h1) {
		t.Fatalf("hash format %q", h1)
	}
	tests := []struct {
		hash, pin string
		want      bool
	}{
		{h1, "1234", true},
		{h2, "1234", true},
		{h1, "1235", false},
		{h1, "", false},
		{"", "1234", false},
		{"1234", "1234", false},
		{"pbkdf2-sha256$x$AAAA$AAAA", "1234", false},
		{"md5$1$AAAA$AAAA", "1234", false},
		{strings.Replace(h1, "$500$", "$999999999$", 1), "1234", false},
	}
	for _, tt := range tests {
		if got := CheckPIN(tt.hash, tt.pin); got != tt.want {
			t.Errorf("CheckPIN(%q, %q) = %v, want %v", tt.hash, tt.pin, got, tt.want)
		}
	}
}

func TestValidatePIN(t *testing.T) {
	for pin, ok := range map[string]bool{"1234": true, "12345678": true, "123": false, "123456789": false,
		"12a4": false, "": false, "１２３４": false, "000000": true} {
		err := ValidatePIN(pin)
		if (err == nil) != ok {
			t.Errorf("ValidatePIN(%q) = %v, want ok=%v", pin, err, ok)
		}
		if err != nil && hotdesk.ErrorField(err) != "pin" {
			t.Errorf("ValidatePIN(%q) field %q", pin, hotdesk.ErrorField(err))
		}
	}
}

func TestSetPIN(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gen, err := f.svc.SetPIN(ctx, "201", "")
	if err != nil || !regexp.MustCompile(`^\d{6}$`).MatchString(gen) {
		t.Fatalf("generated %q, %v", gen, err)
	}
	if err := f.svc.VerifyPIN(ctx, "201", gen, "", "x"); err != nil {
		t.Fatalf("generated PIN does not verify: %v", err)
	}
	if g, err := f.svc.SetPIN(ctx, "201", "55667788"); err != nil || g != "" {
		t.Fatalf("set: %q, %v", g, err)
	}
	if err := f.svc.VerifyPIN(ctx, "201", "55667788", "", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetPIN(ctx, "201", "12"); hotdesk.ErrorField(err) != "pin" {
		t.Fatalf("short PIN: %v", err)
	}
	if _, err := f.svc.SetPIN(ctx, "299", "1234"); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("unknown user: %v", err)
	}
	for _, line := range f.auditTrail() {
		if strings.Contains(line, gen) || strings.Contains(line, "55667788") {
			t.Fatalf("PIN in audit: %q", line)
		}
	}
}

func BenchmarkCheckPIN(b *testing.B) {
	h, _ := HashPIN("123456")
	for b.Loop() {
		if !CheckPIN(h, "123456") {
			b.Fatal("no match")
		}
	}
}
