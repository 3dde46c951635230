package desk

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
)

// seedSQLite creates users 1000.. and hot desk phones HD.. (n each).
func seedSQLite(tb testing.TB, db *sqlite.DB, n int) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		u := &hotdesk.User{Extension: fmt.Sprint(1000 + i), Name: fmt.Sprint("User ", i), Hotdesk: true, PINHash: pinHash, Outbound: hotdesk.OutboundInternal}
		if err := db.CreateUser(ctx, u); err != nil {
			tb.Fatal(err)
		}
		d := &hotdesk.Device{ID: fmt.Sprintf("HD%05d", i+1), Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric, SIPPassword: "pw"}
		if err := db.CreateDevice(ctx, d); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestSQLiteRestartWithPendingDeadlines(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hotdesk.db")
	db := sqlitetest.MustOpenFile(t, path)
	seedSQLite(t, db, 3)
	st, _ := db.GetSettings(ctx)
	st.AutoLogout = hotdesk.AutoLogout{MaxDuration: "4h", DailyAt: "02:00"}
	st.Timezone = "Europe/Amsterdam"
	if err := db.PutSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	clock := siptest.NewClock(time.Date(2026, 10, 24, 20, 0, 0, 0, time.UTC)) // 22:00 CEST, the night clocks go back
	svc := New(Options{Store: db, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	login := func(ext, dev string) {
		if _, err := svc.Login(ctx, LoginRequest{Extension: ext, Device: dev, PIN: "1234", CheckPIN: true}); err != nil {
			t.Fatal(err)
		}
	}
	login("1000", "HD00001") // max duration: 2026-10-25 00:00 UTC
	clock.Advance(2 * time.Hour)
	login("1001", "HD00002") // daily 02:00 CET = 01:00 UTC, before max duration 02:00 UTC
	l, err := db.LoginByDevice(ctx, "HD00002")
	if err != nil || l.EndsAt == nil || !l.EndsAt.Equal(time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)) || l.Policy != PolicyDaily {
		t.Fatalf("stored login %+v, %v", l, err)
	}
	db.Close()

	// Restart: new store handle and Service on the same file.
	db = sqlitetest.MustOpenFile(t, path)
	defer db.Close()
	svc = New(Options{Store: db, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	svc.Tick(ctx, clock.Advance(2*time.Hour+time.Minute)) // 00:01 UTC: first deadline passed while down
	ls, _ := db.ListLogins(ctx)
	if len(ls) != 1 || ls[0].Extension != "1001" {
		t.Fatalf("logins after first deadline: %+v", ls)
	}
	svc.Tick(ctx, clock.Advance(time.Hour))
	if ls, _ := db.ListLogins(ctx); len(ls) != 0 {
		t.Fatalf("logins left: %+v", ls)
	}
	es, err := db.FindAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Extension+" "+e.Reason+" "+e.Detail)
	}
	slices.Sort(got)
	if want := []string{"1000 auto max_duration", "1001 auto daily"}; !slices.Equal(got, want) {
		t.Fatalf("logout audit %q, want %q", got, want)
	}
}

func TestSQLiteRacingLoginsLeaveOneLogin(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.MustOpenFile(t, filepath.Join(t.TempDir(), "hotdesk.db"))
	defer db.Close()
	seedSQLite(t, db, 8)
	svc := New(Options{Store: db, Logger: slog.New(slog.DiscardHandler)})
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			// Two users race for the same phones and each roams across all.
			for _, ext := range []string{"1000", "1001"} {
				if _, err := svc.Login(ctx, LoginRequest{Extension: ext, Device: fmt.Sprintf("HD%05d", i+1), CheckPIN: false, Via: hotdesk.ViaAPI}); err != nil {
					t.Error(err)
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	ls, err := db.ListLogins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Whatever the order, each user and each phone has at most one login,
	// and the last login to commit stands. (1000 may have been switched out
	// by 1001 on its phone, so only 1001's login is certain.)
	byUser, byDevice := map[string]int{}, map[string]int{}
	for _, l := range ls {
		byUser[l.Extension]++
		byDevice[l.Device]++
	}
	if byUser["1000"] > 1 || byUser["1001"] != 1 || len(byDevice) != len(ls) {
		t.Fatalf("logins %+v", ls)
	}
}

// BenchmarkLoginSQLite measures Service.Login (PIN check, roaming, audit)
// on a durable SQLite file: go test -run X -bench LoginSQLite ./internal/desk
func BenchmarkLoginSQLite(b *testing.B) {
	ctx := context.Background()
	db := sqlitetest.MustOpenFile(b, filepath.Join(b.TempDir(), "hotdesk.db"))
	defer db.Close()
	const n = 200
	seedSQLite(b, db, n)
	svc := New(Options{Store: db, Logger: slog.New(slog.DiscardHandler)})
	var i atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := i.Add(1)
			ext, dev := fmt.Sprint(1000+k%n), fmt.Sprintf("HD%05d", (k*7)%n+1)
			if _, err := svc.Login(ctx, LoginRequest{Extension: ext, Device: dev, PIN: "1234", CheckPIN: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
