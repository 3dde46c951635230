package desk

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// watchedStore counts the transactions running, and can show the reads
// outside them a stale PIN hash.
type watchedStore struct {
	Store
	inTx      atomic.Int32
	staleHash string // if set, FindUser outside a transaction returns it
}

func (w *watchedStore) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	w.inTx.Add(1)
	defer w.inTx.Add(-1)
	return w.Store.InTx(ctx, fn)
}

func (w *watchedStore) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	u, err := w.Store.FindUser(ctx, ext)
	if err == nil && w.staleHash != "" {
		c := *u
		c.PINHash = w.staleHash
		u = &c
	}
	return u, err
}

// The PBKDF2 check of a PIN runs before the write transaction, not in it:
// in it, it held the store's one writer (issue 18).
func TestPINCheckedOutsideTransaction(t *testing.T) {
	f := newFixture(t)
	w := &watchedStore{Store: f.store}
	svc := New(Options{Store: w, Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler), SettingsTTL: time.Nanosecond})
	var checks, inside atomic.Int32
	svc.checkPIN = func(hash, pin string) bool {
		checks.Add(1)
		if w.inTx.Load() > 0 {
			inside.Add(1)
		}
		return CheckPIN(hash, pin)
	}
	ctx := context.Background()
	if _, err := svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00001", PIN: "1234", CheckPIN: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, LoginRequest{Extension: "202", Device: "HD00002", PIN: "0000", CheckPIN: true}); !errors.Is(err, ErrBadPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if err := svc.VerifyPIN(ctx, "203", "1234", "HD00003", "test"); err != nil {
		t.Fatal(err)
	}
	if checks.Load() != 3 || inside.Load() != 0 {
		t.Fatalf("%d PIN checks, %d of them inside a transaction; want 3, none inside", checks.Load(), inside.Load())
	}
}

// A PIN changed between the check before the transaction and the
// transaction is checked again against the hash the transaction reads.
func TestPINChangedAfterCheckIsCheckedAgain(t *testing.T) {
	f := newFixture(t)
	old, err := HashPIN("9999")
	must(t, err)
	w := &watchedStore{Store: f.store, staleHash: old} // the store holds PIN 1234
	svc := New(Options{Store: w, Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler), SettingsTTL: time.Nanosecond})
	ctx := context.Background()
	if _, err := svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00001", PIN: "9999", CheckPIN: true}); !errors.Is(err, ErrBadPIN) {
		t.Fatalf("login with the PIN of the stale hash: %v, want ErrBadPIN", err)
	}
	if err := svc.VerifyPIN(ctx, "201", "9999", "HD00001", "test"); !errors.Is(err, ErrBadPIN) {
		t.Fatalf("verify with the PIN of the stale hash: %v, want ErrBadPIN", err)
	}
	if _, err := svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00001", PIN: "1234", CheckPIN: true}); err != nil {
		t.Fatalf("login with the current PIN: %v", err)
	}
}
