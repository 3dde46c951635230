package desk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestRacingLoginsAcrossNodes: two nodes (store handles) log 6 users into
// 4 phones at random, 16 at a time. On PostgreSQL the logins run side by
// side under row locks; every one must succeed (conflicts and deadlocks are
// retried) and the audit trail must add up: per user and per phone, logins
// minus logouts is 1 for a current login and 0 otherwise.
func TestRacingLoginsAcrossNodes(t *testing.T) {
	lockStores(t, func(t *testing.T, open func() hotdesk.Store) {
		a, b := open(), open()
		seedStore(t, a, 6, 4)
		svcs := []*Service{New(Options{Store: a}), New(Options{Store: b})}
		var wg sync.WaitGroup
		errs := make(chan error, 16*25)
		for w := range 16 {
			wg.Go(func() {
				svc := svcs[w%2]
				for range 25 {
					ext := fmt.Sprint(201 + rand.IntN(6))
					dev := fmt.Sprintf("HD%05d", 1+rand.IntN(4))
					if _, err := svc.Login(context.Background(), LoginRequest{Extension: ext, Device: dev, Via: hotdesk.ViaAPI, Source: "test"}); err != nil {
						errs <- fmt.Errorf("%s on %s: %w", ext, dev, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		ls, err := a.ListLogins(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		now := map[string]int{}
		for _, l := range ls {
			now["u"+l.Extension]++
			now["d"+l.Device]++
		}
		es, err := a.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogin, hotdesk.KindLogout}, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		bal := map[string]int{}
		for _, e := range es {
			d := 1
			if e.Kind == hotdesk.KindLogout {
				d = -1
			}
			bal["u"+e.Extension] += d
			bal["d"+e.Device] += d
		}
		for k, v := range bal {
			if v != now[k] {
				t.Errorf("%s: logins minus logouts in the audit trail %d, current logins %d", k, v, now[k])
			}
		}
		t.Logf("%d audit rows, %d logins now", len(es), len(ls))
	})
}
