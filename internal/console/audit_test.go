package console

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestAuditFiltersAndPaging(t *testing.T) {
	hs, c := newSignedIn(t)
	ctx := context.Background()
	base := hs.clock.Now().Add(-24 * time.Hour)
	for i := range 120 {
		e := &hotdesk.AuditEvent{Time: base.Add(time.Duration(i) * time.Minute), Kind: hotdesk.KindLogin,
			Extension: "201", Device: "HD00001", Reason: hotdesk.ViaPhone, Source: "sip", Detail: fmt.Sprintf("n%03d", i)}
		if i%2 == 1 {
			e.Kind, e.Extension = hotdesk.KindLogout, "202"
		}
		if err := hs.store.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	w := c.get("/audit?extension=201&kind=login")
	mustContain(t, w, 200, "60 events", "n118", "Older")
	body := w.Body.String()
	if strings.Contains(body, "n117") || strings.Contains(body, "n018") || strings.Contains(body, "192.0.2.10") {
		t.Fatal("filter ignored or the first page holds more than one page")
	}
	older := regexp.MustCompile(`href="(/audit\?[^"]+)">Older`).FindStringSubmatch(body)
	if older == nil {
		t.Fatal("no link to older events")
	}
	w = c.get(strings.ReplaceAll(older[1], "&amp;", "&"))
	mustContain(t, w, 200, "60 events", "n018", "n000", "Newest")
	if strings.Contains(w.Body.String(), "n020<") {
		t.Fatal("the second page repeats the first")
	}
	// A time range in the site time zone (UTC here): 10 minutes of events.
	from, to := base.Add(10*time.Minute).Format(datetimeLocal), base.Add(19*time.Minute).Format(datetimeLocal)
	w = c.get("/audit?since=" + from + "&until=" + to)
	mustContain(t, w, 200, "10 events", "n010", "n019")
	if strings.Contains(w.Body.String(), "n020") || strings.Contains(w.Body.String(), "n009") {
		t.Fatal("time range not applied")
	}
	mustContain(t, c.get("/audit?device=HD00404"), 200, "No events match.")
}

// TestAuditSecondsAndDeviceCase: the audit page shows times to the second
// (a login and the logout it caused fall in one minute) and filters by
// device regardless of case.
func TestAuditSecondsAndDeviceCase(t *testing.T) {
	hs, c := newSignedIn(t)
	at := time.Date(2026, 3, 2, 8, 15, 7, 0, time.UTC)
	if err := hs.store.AppendAudit(context.Background(), &hotdesk.AuditEvent{Time: at, Kind: hotdesk.KindLogin,
		Extension: "201", Device: "HD00001", Source: "sip", Detail: "marker"}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, c.get("/audit?device=hd00001"), 200, "1 event", "marker", "2026-03-02 08:15:07")
}
