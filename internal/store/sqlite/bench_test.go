package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlstore"
	"github.com/hotdesk-pbx/hotdesk/internal/store/storetest"
)

// BenchmarkLoginTx measures durable login transactions
// (storetest.BenchLoginTx) on a file database (WAL, synchronous=FULL):
// each commit is an fsync. Run with
//
//	go test -run X -bench LoginTx -benchtime 3s ./internal/store/sqlite
//
// and read logins/s. -cpu 1,8 shows serial vs concurrent callers (writers
// queue on the one write connection either way); BENCH_MEM=1 uses an
// in-memory database.
func BenchmarkLoginTx(b *testing.B) {
	dsn := filepath.Join(b.TempDir(), "bench.db")
	if os.Getenv("BENCH_MEM") != "" {
		dsn = ":memory:"
	}
	storetest.BenchLoginTx(b, MustOpen(b, dsn))
}

// BenchmarkLoginReads compares the whole-row reads of a user and a phone
// (FindUser, FindDevice) with the narrow ones a login makes (LoginUser,
// LoginDevice), on the read pool and inside a group-commit transaction:
//
//	go test -run X -bench LoginReads -benchmem ./internal/store/sqlite
func BenchmarkLoginReads(b *testing.B) {
	ctx := context.Background()
	db := MustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
	until := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	u := &hotdesk.User{Extension: "201", Name: "Ann", Hotdesk: true, PINHash: "pbkdf2-sha256$500$c2FsdA$a2V5",
		DIDs: []string{"+3110001"}, BLF: []string{"202", "203"}, SpeedDials: []hotdesk.SpeedDial{{Label: "Bo", Number: "203"}}}
	d := &hotdesk.Device{ID: "HD00001", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric, Label: "Desk 1",
		SIPPassword: "pw", Location: hotdesk.Location{Text: "Desk 1, floor 2", Building: "B1", Floor: "2"},
		AutoLogout: &hotdesk.AutoLogout{MaxDuration: "12h"}, LockedUntil: &until}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateDevice(ctx, d); err != nil {
		b.Fatal(err)
	}
	inTx := func(b *testing.B, read func(tx *sqlstore.Tx) error) {
		for b.Loop() {
			if err := db.InTx(ctx, func(tx hotdesk.Tx) error { return read(tx.(*sqlstore.Tx)) }); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("pool/FindUser", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.FindUser(ctx, "201"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pool/LoginUser", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.LoginUser(ctx, "201"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tx/FindUser+FindDevice", func(b *testing.B) {
		inTx(b, func(tx *sqlstore.Tx) error {
			_, err1 := tx.FindUser(ctx, "201")
			_, err2 := tx.FindDevice(ctx, "HD00001")
			return errors.Join(err1, err2)
		})
	})
	b.Run("tx/LoginUser+LoginDevice", func(b *testing.B) {
		inTx(b, func(tx *sqlstore.Tx) error {
			_, err1 := tx.LoginUser(ctx, "201")
			_, err2 := tx.LoginDevice(ctx, "HD00001")
			return errors.Join(err1, err2)
		})
	})
}

// BenchmarkWriteCalls measures a batch of call records
// (storetest.BenchWriteCalls) on a file database, durable as in
// production; read cpu-µs/record:
//
//	go test -run X -bench WriteCalls -benchmem ./internal/store/sqlite
func BenchmarkWriteCalls(b *testing.B) {
	storetest.BenchWriteCalls(b, MustOpen(b, filepath.Join(b.TempDir(), "bench.db")))
}

// BenchmarkDeviceMailboxes reads 16 phones' lamps (mwi) one after the
// other, and from 16 goroutines at once (the store's reader runs those
// that queue up in one read transaction), after a commit, as under login
// load; ns/op is per 16 phones:
//
//	go test -run X -bench DeviceMailboxes -benchmem ./internal/store/sqlite
func BenchmarkDeviceMailboxes(b *testing.B) {
	ctx := context.Background()
	db := MustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
	var devices []string
	for i := range 16 {
		d := &hotdesk.Device{ID: fmt.Sprintf("HD%05d", i), Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric, SIPPassword: "pw"}
		if err := db.CreateDevice(ctx, d); err != nil {
			b.Fatal(err)
		}
		devices = append(devices, d.ID)
	}
	commit := func(b *testing.B) { // the writer's last commit resets the readers' page caches
		b.StopTimer()
		if err := db.InTx(ctx, func(tx hotdesk.Tx) error {
			return tx.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: "bench"})
		}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.Run("one-by-one", func(b *testing.B) {
		for b.Loop() {
			commit(b)
			for _, d := range devices {
				if _, _, _, err := db.DeviceMailbox(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("one-by-one/commit-each", func(b *testing.B) { // under load a commit comes between most reads
		for b.Loop() {
			for _, d := range devices {
				commit(b)
				if _, _, _, err := db.DeviceMailbox(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("together", func(b *testing.B) {
		for b.Loop() {
			commit(b)
			var wg sync.WaitGroup
			for _, d := range devices {
				wg.Go(func() {
					if _, _, _, err := db.DeviceMailbox(ctx, d); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	})
}
