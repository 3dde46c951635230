package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// callFilter parses the call log query: extension, device, result,
// since, until (RFC 3339), offset, limit.
func callFilter(q url.Values) (f hotdesk.CallFilter, err error) {
	f.Extension, f.Device, f.Result = strings.TrimSpace(q.Get("extension")), strings.TrimSpace(q.Get("device")), q.Get("result")
	if f.Since, err = timeParam(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = timeParam(q, "until"); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return f, hotdesk.Invalidf("until", "until must not be before since.")
	}
	if f.Offset, err = intParam(q, "offset", 0, 0, 1_000_000); err != nil {
		return f, err
	}
	f.Limit, err = intParam(q, "limit", 100, 1, 1000)
	return f, err
}

// callLog is GET /api/v1/call-log: every user's calls, newest first;
// X-Total-Count counts every match.
func (a *API) callLog(w http.ResponseWriter, r *http.Request) error {
	f, err := callFilter(r.URL.Query())
	if err != nil {
		return err
	}
	calls, total, err := a.admin.CallLog(r.Context(), f)
	if err != nil {
		return err
	}
	setTotal(w, total)
	writeJSON(w, http.StatusOK, orEmpty(calls))
	return nil
}

// exportCalls is GET /api/v1/call-log/export: the filtered call log as CSV
// (UTC times, no paging).
func (a *API) exportCalls(w http.ResponseWriter, r *http.Request) error {
	f, err := callFilter(r.URL.Query())
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := a.admin.ExportCalls(r.Context(), f, nil, &b); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="calls.csv"`)
	_, _ = w.Write([]byte(b.String()))
	return nil
}

func (a *API) callLogRoutes(mux *patternMux) {
	a.resource(mux, "/api/v1/call-log", methods{"GET": a.callLog})
	a.resource(mux, "/api/v1/call-log/export", methods{"GET": a.exportCalls})
}

func init() {
	ps := []string{"extension", "device", "result", "since", "until", "offset", "limit"}
	queryParams["GET /api/v1/call-log"] = ps
	queryParams["GET /api/v1/call-log/export"] = ps[:5]
}
