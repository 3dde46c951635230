package emergency

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
)

// Nobody at the alert extension acknowledges: after the escalation time
// the escalation extension is called too (audited), acknowledges, and
// every alert call stops; the record names who acknowledged and how.
func TestEscalationAfterNoAck(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.MustOpen(t)
	st := hotdesk.DefaultSettings()
	st.EmergencyAlerts.AlertExtensions = []string{"203"}
	st.EmergencyAlerts.EscalateExtensions = []string{"204"}
	var mu sync.Mutex
	calls := map[string]int{}
	s, _ := mustRun(t, Options{Store: db, Retry: 50 * time.Millisecond, EscalateAfter: 300 * time.Millisecond,
		Caller: func() Caller {
			return callerFunc(func(ctx context.Context, ext string, _, _ []int16) (bool, error) {
				mu.Lock()
				calls[ext]++
				mu.Unlock()
				if ext == "204" {
					return true, nil
				}
				select { // 203 rings out
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
				return false, nil
			})
		}}, st)
	s.Started(hotdesk.EmergencyCall{Device: "HD1", Number: "112", Callback: "+31201234000"})
	deadline := time.Now().Add(5 * time.Second)
	var rec *hotdesk.EmergencyCall
	for rec == nil || rec.AckedAt == nil {
		if time.Now().After(deadline) {
			t.Fatalf("not acknowledged: %+v, calls %v", rec, calls)
		}
		time.Sleep(20 * time.Millisecond)
		if cs, _ := db.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{}); len(cs) == 1 {
			rec = cs[0]
		}
	}
	if rec.AckedBy != "204" || rec.AckedVia != "phone" {
		t.Errorf("acknowledged by %s via %s", rec.AckedBy, rec.AckedVia)
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	n203 := calls["203"]
	mu.Unlock()
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if n203 < 2 || calls["203"] != n203 {
		t.Errorf("203 called %d then %d times: want retries before, none after the acknowledgement", n203, calls["203"])
	}
	es, _ := db.FindAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindEmergency}})
	escalated := false
	for _, e := range es {
		escalated = escalated || e.Reason == "escalated"
	}
	if !escalated {
		t.Errorf("escalation not audited: %+v", es)
	}
}
