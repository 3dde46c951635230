package emergency

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// Every alert email address gets the call's facts (Options.Mail); one
// that cannot be queued is audited and does not stop the others.
func TestAlertEmails(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := hotdesk.DefaultSettings()
	st.EmergencyAlerts.AlertEmails = []string{"reception@example.com", "broken@example.com", "bhv@example.com"}
	var mu sync.Mutex
	sent := map[string]string{}
	s := New(Options{Store: db, Settings: func(context.Context) hotdesk.Settings { return st }, Logger: slog.New(slog.DiscardHandler),
		Mail: func(_ context.Context, to, subject, body string) error {
			if strings.HasPrefix(to, "broken") {
				return errors.New("outbox full")
			}
			mu.Lock()
			sent[to] = subject + "\n" + body
			mu.Unlock()
			return nil
		}})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
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
	<-done
	for _, to := range []string{"reception@example.com", "bhv@example.com"} {
		m := sent[to]
		for _, want := range []string{"EMERGENCY CALL 112 from desk HD00003", "Anna de Vries", "+31201234201", "Keizersgracht 1", "floor 2"} {
			if !strings.Contains(m, want) {
				t.Errorf("mail to %s lacks %q:\n%s", to, want, m)
			}
		}
	}
}
