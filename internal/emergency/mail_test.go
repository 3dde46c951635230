package emergency

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
)

// Every alert email address gets the call's facts (Options.Mail); one
// that cannot be queued is audited and does not stop the others.
func TestAlertEmails(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.MustOpen(t)
	st := hotdesk.DefaultSettings()
	st.EmergencyAlerts.AlertEmails = []string{"reception@example.com", "broken@example.com", "bhv@example.com"}
	var mu sync.Mutex
	sent := map[string]string{}
	s, stop := mustRun(t, Options{Store: db,
		Mail: func(_ context.Context, to, subject, body string) error {
			if strings.HasPrefix(to, "broken") {
				return errors.New("outbox full")
			}
			mu.Lock()
			sent[to] = subject + "\n" + body
			mu.Unlock()
			return nil
		}}, st)
	s.Started(hotdesk.EmergencyCall{Device: "HD00003", Extension: "201", Name: "Anna de Vries", Number: "112", Callback: "+31201234201",
		Location: hotdesk.Location{Street: "Keizersgracht", HouseNo: "1", A3: "Amsterdam", Floor: "2"}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, _ := db.FindAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindEmergencyAlertFailed}})
		mu.Lock()
		n := len(sent)
		mu.Unlock()
		if n == 2 && len(es) == 1 {
			if !strings.Contains(es[0].Detail, "broken@example.com") {
				t.Errorf("failure audit %+v", es[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent %v, failures %v", sent, es)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	for _, to := range []string{"reception@example.com", "bhv@example.com"} {
		m := sent[to]
		for _, want := range []string{"EMERGENCY CALL 112 from desk HD00003", "Anna de Vries", "+31201234201", "Keizersgracht 1", "floor 2"} {
			if !strings.Contains(m, want) {
				t.Errorf("mail to %s lacks %q:\n%s", to, want, m)
			}
		}
	}
}
