package emergency

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// downStore fails every operation, as a database that went away.
type downStore struct{ calls atomic.Int64 }

var errDown = errors.New("database is down")

func (d *downStore) SiteOfDevice(context.Context, string) (*hotdesk.Site, error) {
	d.calls.Add(1)
	return nil, errDown
}
func (d *downStore) ListSites(context.Context) ([]*hotdesk.Site, error) {
	d.calls.Add(1)
	return nil, errDown
}
func (d *downStore) CreateEmergencyCall(context.Context, *hotdesk.EmergencyCall) error {
	d.calls.Add(1)
	return errDown
}
func (d *downStore) FindEmergencyCalls(context.Context, hotdesk.EmergencyCallFilter) ([]*hotdesk.EmergencyCall, error) {
	return nil, errDown
}
func (d *downStore) AckEmergencyCall(context.Context, int64, string, string, time.Time) (*hotdesk.EmergencyCall, bool, error) {
	return nil, false, errDown
}
func (d *downStore) AppendAudit(context.Context, *hotdesk.AuditEvent) error {
	d.calls.Add(1)
	return errDown
}

// callerFunc adapts a func to Caller.
type callerFunc func(ctx context.Context, ext string, say, thanks []int16) (bool, error)

func (f callerFunc) Alert(ctx context.Context, ext string, say, thanks []int16) (bool, error) {
	return f(ctx, ext, say, thanks)
}

// With the database down, Locate answers at once with the desk's own
// address, Started returns at once, and the alert extension is still
// called (the record and audit are retried and given up on, logged).
func TestDatabaseDownStillLocatesAndAlerts(t *testing.T) {
	store := &downStore{}
	st := hotdesk.DefaultSettings()
	st.EmergencyAlerts.AlertExtensions = []string{"203"}
	called := make(chan string, 4)
	s, _ := mustRun(t, Options{Store: store,
		Caller: func() Caller {
			return callerFunc(func(_ context.Context, ext string, say, _ []int16) (bool, error) {
				if len(say) == 0 {
					return false, errors.New("empty message")
				}
				called <- ext
				return true, nil
			})
		}}, st)
	dev := &hotdesk.Device{ID: "HD1", Location: hotdesk.Location{Street: "Desk street", HouseNo: "9"}}
	start := time.Now()
	p := s.Locate(context.Background(), dev, "10.0.0.1:5060")
	if p.Location.Street != "Desk street" || p.Site != nil || time.Since(start) > time.Second {
		t.Fatalf("Locate with the database down: %+v after %v", p, time.Since(start))
	}
	start = time.Now()
	s.Started(hotdesk.EmergencyCall{Device: "HD1", Number: "112", Callback: "+31201234000", Location: p.Location})
	if d := time.Since(start); d > 500*time.Millisecond { // it hands the call to a goroutine
		t.Errorf("Started took %v", d)
	}
	alertStart := time.Now()
	select {
	case ext := <-called:
		if d := time.Since(alertStart); d > time.Second {
			t.Errorf("alert call %v after the call started, want within 1 s", d)
		}
		if ext != "203" {
			t.Errorf("alerted %s", ext)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no alert call with the database down")
	}
	time.Sleep(2 * time.Second) // the retries run beside the alert
	if store.calls.Load() < 3 {
		t.Errorf("store tried %d times: the record and audit should be retried", store.calls.Load())
	}
}
