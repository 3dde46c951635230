package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// BenchmarkInviteLookup compares what routing an INVITE from a hot desk
// phone to a logged-in colleague reads: the one statement the B2BUA runs
// (InviteLookup) and the five lookups it replaced (the caller's login and
// user, the callee's user, login and personal phones), on a file database
// with 100 pairs of users logged in:
//
//	go test -run X -bench InviteLookup -benchmem ./internal/store/sqlite
func BenchmarkInviteLookup(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
	ctx := context.Background()
	const pairs = 100
	for i := 1; i <= pairs; i++ {
		for _, side := range []struct{ ext, dev string }{{fmt.Sprint(3000 + i), fmt.Sprintf("BCA%04d", i)}, {fmt.Sprint(4000 + i), fmt.Sprintf("BCB%04d", i)}} {
			if err := db.CreateUser(ctx, &hotdesk.User{Extension: side.ext, Name: "Bench " + side.ext, Hotdesk: true, Outbound: hotdesk.OutboundNational}); err != nil {
				b.Fatal(err)
			}
			if err := db.CreateDevice(ctx, &hotdesk.Device{ID: side.dev, Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric, SIPPassword: "pw-" + side.dev}); err != nil {
				b.Fatal(err)
			}
			err := db.InTx(ctx, func(tx hotdesk.Tx) error {
				return tx.CreateLogin(ctx, &hotdesk.Login{Extension: side.ext, Device: side.dev, Since: time.Now(), Via: hotdesk.ViaAdmin})
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	// As the B2BUA asks: with a deadline.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	b.Run("one", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i = i%pairs + 1
			inv, err := db.InviteLookup(ctx, fmt.Sprintf("BCA%04d", i), "", fmt.Sprint(4000+i))
			if err != nil || inv.Caller == nil || inv.CalleeAt == "" {
				b.Fatal(inv, err)
			}
		}
	})
	b.Run("five", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i = i%pairs + 1
			l, err := db.LoginByDevice(ctx, fmt.Sprintf("BCA%04d", i))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := db.FindUser(ctx, l.Extension); err != nil {
				b.Fatal(err)
			}
			callee := fmt.Sprint(4000 + i)
			if _, err := db.FindUser(ctx, callee); err != nil {
				b.Fatal(err)
			}
			if _, err := db.LoginByUser(ctx, callee); err != nil {
				b.Fatal(err)
			}
			if _, err := db.PersonalDevices(ctx, callee); err != nil {
				b.Fatal(err)
			}
		}
	})
}
