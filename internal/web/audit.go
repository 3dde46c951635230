package web

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

// maxAuditWindow bounds offset+limit: the store pages by id, so an offset
// is read and skipped.
const maxAuditWindow = 10_000

// auditFilter parses the audit query: extension, device, kind (repeated or
// comma-separated), since, until (RFC 3339), before_id, offset, limit.
func auditFilter(q url.Values) (f hotdesk.AuditFilter, offset int, err error) {
	f.Extension, f.Device = strings.TrimSpace(q.Get("extension")), strings.TrimSpace(q.Get("device"))
	if f.Extension != "" {
		if err := validate.Extension("extension", f.Extension); err != nil {
			return f, 0, err
		}
	}
	f.Kinds = splitList(q["kind"])
	if err := validate.Kinds("kind", f.Kinds, validate.AuditKinds()); err != nil {
		return f, 0, err
	}
	if f.Since, err = timeParam(q, "since"); err != nil {
		return f, 0, err
	}
	if f.Until, err = timeParam(q, "until"); err != nil {
		return f, 0, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return f, 0, hotdesk.Invalidf("until", "until must not be before since.")
	}
	if v := q.Get("before_id"); v != "" {
		if f.BeforeID, err = strconv.ParseInt(v, 10, 64); err != nil || f.BeforeID < 1 {
			return f, 0, hotdesk.Invalidf("before_id", "before_id must be a positive event id.")
		}
	}
	if offset, err = intParam(q, "offset", 0, 0, maxAuditWindow); err != nil {
		return f, 0, err
	}
	if f.Limit, err = intParam(q, "limit", 100, 1, 1000); err != nil {
		return f, 0, err
	}
	if offset+f.Limit > maxAuditWindow {
		return f, 0, hotdesk.Invalidf("offset", "offset+limit must be at most %d; page further with before_id.", maxAuditWindow)
	}
	return f, offset, nil
}

// timeParam parses an optional RFC 3339 time parameter.
func timeParam(q url.Values, name string) (time.Time, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, hotdesk.Invalidf(name, "%s must be an RFC 3339 time like 2026-01-31T09:00:00Z.", name)
	}
	return t, nil
}

// listAudit lists audit events newest first; X-Total-Count counts every
// match.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	f, offset, err := auditFilter(r.URL.Query())
	if err != nil {
		return err
	}
	limit := f.Limit
	f.Limit = offset + limit
	es, err := a.store.FindAudit(r.Context(), f)
	if err != nil {
		return fmt.Errorf("find audit: %w", err)
	}
	if offset < len(es) {
		es = es[offset:]
	} else {
		es = nil
	}
	total, err := a.store.CountAudit(r.Context(), f)
	if err != nil {
		return fmt.Errorf("count audit: %w", err)
	}
	setTotal(w, total)
	writeJSON(w, http.StatusOK, orEmpty(es))
	return nil
}
