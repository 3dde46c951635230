package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres/pgtest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
)

// lockStores runs fn on a durable SQLite store and, when
// HOTDESK_TEST_POSTGRES is set, on a fresh PostgreSQL schema. reopen gives
// a new handle on the same data (a restart).
func lockStores(t *testing.T, fn func(t *testing.T, open func() hotdesk.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "hotdesk.db")
		fn(t, func() hotdesk.Store {
			db := sqlitetest.MustOpenFile(t, path)
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := pgtest.MustSchema(t, pgtest.DSN(t))
		fn(t, func() hotdesk.Store {
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

func seedStore(t *testing.T, s hotdesk.Store, users, devices int) {
	t.Helper()
	ctx := context.Background()
	for i := range users {
		u := &hotdesk.User{Extension: fmt.Sprint(201 + i), Hotdesk: true, PINHash: pinHash, Outbound: hotdesk.OutboundInternal}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for i := range devices {
		d := &hotdesk.Device{ID: fmt.Sprintf("HD%05d", i+1), Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric}
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

func countKinds(t *testing.T, s hotdesk.Store, kind, reason string) int {
	t.Helper()
	es, err := s.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{kind}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if reason == "" || e.Reason == reason {
			n++
		}
	}
	return n
}

// parallelBadPINs fires n wrong PINs for ext from device at once and
// returns how many were checked (ErrBadPIN) and refused as locked.
func parallelBadPINs(t *testing.T, svc *Service, n int, ext, device string) (checked, locked int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, err := svc.Login(context.Background(), LoginRequest{Extension: ext, Device: device, PIN: "0000",
				CheckPIN: true, Source: "127.0.0.1:5062"})
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		switch {
		case errors.Is(err, ErrBadPIN):
			checked++
		case errors.Is(err, ErrLocked):
			locked++
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	return checked, locked
}

// Issue 11 item 6: 30 parallel wrong PINs from one phone checked 7 PINs
// without locking. Counting is now in the checking transaction.
func TestParallelWrongPINsCheckExactlyFive(t *testing.T) {
	lockStores(t, func(t *testing.T, open func() hotdesk.Store) {
		s := open()
		seedStore(t, s, 1, 1)
		svc := New(Options{Store: s, Logger: slog.New(slog.DiscardHandler)})
		checked, locked := parallelBadPINs(t, svc, 30, "201", "HD00001")
		t.Logf("30 parallel wrong PINs: %d checked, %d refused as locked", checked, locked)
		if checked != MaxFailures || locked != 30-MaxFailures {
			t.Fatalf("checked %d, locked %d; want %d checked", checked, locked, MaxFailures)
		}
		if n := countKinds(t, s, hotdesk.KindLoginFailed, hotdesk.ReasonBadPIN); n != MaxFailures {
			t.Fatalf("%d bad_pin audit rows", n)
		}
		// Both the user and the phone are locked, once each.
		if n := countKinds(t, s, hotdesk.KindLocked, ""); n != 2 {
			t.Fatalf("%d locked rows", n)
		}
		d, _ := s.FindDevice(context.Background(), "HD00001")
		u, _ := s.FindUser(context.Background(), "201")
		if d.LockedUntil == nil || u.LockedUntil == nil {
			t.Fatalf("device %v user %v", d.LockedUntil, u.LockedUntil)
		}
	})
}

// Refused attempts (from a locked phone) never reset the user's window:
// 20 calls from a locked phone used to push the user's wrong PINs out of
// the 20 audit rows the count read, and 8 more PINs were checked.
func TestRefusedAttemptsDoNotResetWindow(t *testing.T) {
	lockStores(t, func(t *testing.T, open func() hotdesk.Store) {
		s := open()
		seedStore(t, s, 6, 3)
		clock := siptest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		svc := New(Options{Store: s, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
		ctx := context.Background()
		bad := func(ext, dev string) error {
			_, err := svc.Login(ctx, LoginRequest{Extension: ext, Device: dev, PIN: "0000", CheckPIN: true})
			return err
		}
		// Lock HD00001 with wrong PINs for five other users.
		for _, ext := range []string{"202", "203", "204", "205", "206"} {
			if err := bad(ext, "HD00001"); !errors.Is(err, ErrBadPIN) {
				t.Fatal(err)
			}
		}
		// 201: four wrong PINs from HD00002.
		for range MaxFailures - 1 {
			if err := bad("201", "HD00002"); !errors.Is(err, ErrBadPIN) {
				t.Fatal(err)
			}
		}
		// 20 attempts for 201 from the locked phone: refused, not counted.
		for range 20 {
			clock.Advance(time.Second)
			if err := bad("201", "HD00001"); !errors.Is(err, ErrLocked) {
				t.Fatalf("from locked phone: %v", err)
			}
		}
		// The fifth checked wrong PIN locks 201.
		if err := bad("201", "HD00003"); !errors.Is(err, ErrBadPIN) {
			t.Fatal(err)
		}
		if err := bad("201", "HD00003"); !errors.Is(err, ErrLocked) {
			t.Fatalf("sixth: %v", err)
		}
	})
}

// Lock state and failure counts survive a restart (a new store handle and
// Service on the same database).
func TestLockoutSurvivesRestart(t *testing.T) {
	lockStores(t, func(t *testing.T, open func() hotdesk.Store) {
		s := open()
		seedStore(t, s, 2, 2)
		clock := siptest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		ctx := context.Background()
		svc := New(Options{Store: s, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
		for range MaxFailures - 1 {
			svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00001", PIN: "0000", CheckPIN: true})
		}
		s.Close()

		s = open()
		svc = New(Options{Store: s, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
		if _, err := svc.Login(ctx, LoginRequest{Extension: "201", Device: "HD00002", PIN: "0000", CheckPIN: true}); !errors.Is(err, ErrBadPIN) {
			t.Fatal(err)
		}
		s.Close()

		s = open()
		svc = New(Options{Store: s, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
		if err := svc.VerifyPIN(ctx, "201", "1234", "", "x"); !errors.Is(err, ErrLocked) {
			t.Fatalf("user lock after restart: %v", err)
		}
		// HD00001 had four: one more from it locks the phone, durably.
		if err := svc.VerifyPIN(ctx, "202", "0000", "HD00001", "x"); !errors.Is(err, ErrBadPIN) {
			t.Fatal(err)
		}
		s.Close()
		s = open()
		svc = New(Options{Store: s, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
		if _, err := svc.Login(ctx, LoginRequest{Extension: "202", Device: "HD00001", PIN: "1234", CheckPIN: true}); !errors.Is(err, ErrLocked) {
			t.Fatalf("device lock after restart: %v", err)
		}
		// An admin's login there checks no PIN and is not refused.
		if _, err := svc.Login(ctx, LoginRequest{Extension: "202", Device: "HD00001", Via: hotdesk.ViaAdmin}); err != nil {
			t.Fatalf("admin login on locked phone: %v", err)
		}
		if err := svc.UnlockDevice(ctx, "HD00001", "api"); err != nil {
			t.Fatal(err)
		}
		if err := svc.UnlockDevice(ctx, "HD09999", "api"); !errors.Is(err, ErrUnknownDevice) {
			t.Fatalf("unknown device: %v", err)
		}
		if _, err := svc.Login(ctx, LoginRequest{Extension: "202", Device: "HD00001", PIN: "1234", CheckPIN: true}); err != nil {
			t.Fatalf("after unlock: %v", err)
		}
	})
}

// Two nodes (two store handles and Services on one PostgreSQL database)
// share the count: 30 wrong PINs split between them still check 5.
func TestParallelWrongPINsAcrossNodes(t *testing.T) {
	dsn, _ := pgtest.MustSchema(t, pgtest.DSN(t))
	open := func() hotdesk.Store {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	s1 := open()
	seedStore(t, s1, 1, 1)
	s2 := open()
	n1 := New(Options{Store: s1, Logger: slog.New(slog.DiscardHandler)})
	n2 := New(Options{Store: s2, Logger: slog.New(slog.DiscardHandler)})
	var wg sync.WaitGroup
	var c1, l1, c2, l2 int
	wg.Go(func() { c1, l1 = parallelBadPINs(t, n1, 15, "201", "HD00001") })
	wg.Go(func() { c2, l2 = parallelBadPINs(t, n2, 15, "201", "HD00001") })
	wg.Wait()
	t.Logf("node 1: %d checked, %d locked; node 2: %d checked, %d locked", c1, l1, c2, l2)
	if c1+c2 != MaxFailures || l1+l2 != 30-MaxFailures {
		t.Fatalf("%d checked across two nodes, want %d", c1+c2, MaxFailures)
	}
}
