package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

const datetimeLocal = "2006-01-02T15:04"

type auditData struct {
	Form   *form
	Kinds  []string
	Events []*hotdesk.AuditEvent
	Total  int
	Older  string // link to the next (older) page
	Newest string // link back to the first page, when paging
}

// auditPage lists audit events newest first with filters; paging is by
// BeforeID so new events arriving do not shift the pages.
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := newForm(url.Values{"extension": {q.Get("extension")}, "device": {q.Get("device")},
		"kind": {q.Get("kind")}, "since": {q.Get("since")}, "until": {q.Get("until")}})
	loc := c.location(r.Context())
	filter := hotdesk.AuditFilter{Extension: strings.TrimSpace(f.Get("extension")), Device: strings.TrimSpace(f.Get("device")), Limit: pageSize}
	if k := f.Get("kind"); k != "" {
		filter.Kinds = []string{k}
	}
	filter.Since = parseLocal(f, "since", loc, false)
	filter.Until = parseLocal(f, "until", loc, true)
	filter.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	d := auditData{Form: f, Kinds: validate.AuditKinds()}
	if f.Valid() {
		var err error
		if d.Events, err = c.store.FindAudit(r.Context(), filter); err != nil {
			return fmt.Errorf("find audit: %w", err)
		}
		if d.Total, err = c.store.CountAudit(r.Context(), filter); err != nil { // all pages: Count ignores BeforeID
			return fmt.Errorf("count audit: %w", err)
		}
	}
	keep := url.Values{}
	for _, k := range []string{"extension", "device", "kind", "since", "until"} {
		if v := f.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if n := len(d.Events); n == pageSize {
		keep.Set("before", strconv.FormatInt(d.Events[n-1].ID, 10))
		d.Older = "/audit?" + keep.Encode()
		keep.Del("before")
	}
	if filter.BeforeID > 0 {
		d.Newest = "/audit?" + keep.Encode()
	}
	status := http.StatusOK
	if !f.Valid() {
		status = http.StatusBadRequest
	}
	c.render(w, r, status, "audit", d)
	return nil
}

// parseLocal reads a datetime-local (or date) field in the site time zone.
// For the end of a range (end) it returns the end of the minute or day
// typed, since the store's Until is exclusive and "to 10:19" means up to
// and including 10:19.
func parseLocal(f *form, name string, loc *time.Location, end bool) time.Time {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		return time.Time{}
	}
	if t, err := time.ParseInLocation(datetimeLocal, v, loc); err == nil {
		if end {
			t = t.Add(time.Minute)
		}
		return t
	}
	t, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		f.Fail(name, "Use a date and time like 2026-03-01T09:00.")
		return time.Time{}
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t
}
