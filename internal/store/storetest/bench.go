package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// BenchLoginTx measures login transactions on db, which it fills with 200
// users, 200 hot desk phones and a webhook: each op is one InTx that looks
// up the user, device and current logins, ends the user's previous login,
// creates the new one and appends two audit events (with the outbox
// query), then commits. ECONFLICT is retried and counted. It reports
// logins/s, retries/op, the share of logins that needed more than the five
// retries internal/desk allows (over5/op) and the worst case.
func BenchLoginTx(b *testing.B, db hotdesk.Store) {
	ctx := context.Background()
	const users, devices = 200, 200
	for i := range users {
		if err := db.CreateUser(ctx, &hotdesk.User{Extension: fmt.Sprint(1000 + i), Hotdesk: true}); err != nil {
			b.Fatal(err)
		}
	}
	for range devices {
		if err := db.CreateDevice(ctx, &hotdesk.Device{Mode: hotdesk.ModeHotdesk}); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.CreateWebhook(ctx, &hotdesk.Webhook{URL: "https://example.com/h", Kinds: []string{"none"}, Enabled: true}); err != nil {
		b.Fatal(err)
	}
	var seq, conflicts, over5, worst atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			ext, dev := fmt.Sprint(1000+n%users), fmt.Sprintf("HD%05d", 1+(n*7)%devices)
			for try := int64(1); try <= 1000; try++ {
				err := db.InTx(ctx, func(tx hotdesk.Tx) error { return RoamLogin(ctx, tx, ext, dev) })
				if hotdesk.ErrorCode(err) == hotdesk.ECONFLICT {
					conflicts.Add(1)
					if try == 6 {
						over5.Add(1)
					}
					if w := worst.Load(); try > w {
						worst.CompareAndSwap(w, try)
					}
					continue
				}
				if err != nil {
					b.Error(err)
					return
				}
				break
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
	b.ReportMetric(float64(conflicts.Load())/float64(b.N), "retries/op")
	// internal/desk gives up after 5 retries: this share of logins would
	// have failed there.
	b.ReportMetric(float64(over5.Load())/float64(b.N), "over5/op")
	b.ReportMetric(float64(worst.Load()), "max-retries")
}

// RoamLogin is the store work of one roaming login in tx, as internal/desk
// does it: the op of BenchLoginTx.
func RoamLogin(ctx context.Context, tx hotdesk.Tx, ext, dev string) error {
	now := time.Now()
	if _, err := tx.FindUser(ctx, ext); err != nil {
		return err
	}
	if _, err := tx.FindDevice(ctx, dev); err != nil {
		return err
	}
	if cur, err := tx.LoginByDevice(ctx, dev); err == nil {
		if err := tx.DeleteLogin(ctx, cur.Device); err != nil {
			return err
		}
	} else if hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		return err
	}
	if old, err := tx.LoginByUser(ctx, ext); err == nil {
		if err := tx.DeleteLogin(ctx, old.Device); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindLogout, Extension: ext, Device: old.Device, Reason: hotdesk.ReasonRoamed}); err != nil {
			return err
		}
	} else if hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		return err
	}
	if err := tx.CreateLogin(ctx, &hotdesk.Login{Extension: ext, Device: dev, Since: now, Via: hotdesk.ViaPhone, LastActivity: now}); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindLogin, Extension: ext, Device: dev})
}
