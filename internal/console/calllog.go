package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// callsPerPage is the call log's page size.
const callsPerPage = 50

type callsData struct {
	Live    []LiveCall
	HasLive bool // a B2BUA reports live calls
	Form    *form
	Results []string
	Calls   []*hotdesk.CallRecord
	Total   int
	Query   string // the filter, for the pager
	CSV     string // the export link with the filter
	pager
}

// callsPage is the live calls and the call log of every user, filtered
// by user, device, date and result (issue 17 item 9).
func (c *Console) callsPage(w http.ResponseWriter, r *http.Request) error {
	d, f, err := c.callsData(r)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if d.Form.Valid() {
		if d.Calls, d.Total, err = c.admin.CallLog(r.Context(), f); err != nil && !d.Form.Apply(err, "result") {
			return err
		}
	}
	if !d.Form.Valid() {
		status = http.StatusBadRequest
	}
	d.pager = pageLinks(f.Offset, callsPerPage, d.Total, func(off int) string {
		q, _ := url.ParseQuery(d.Query)
		q.Set("offset", strconv.Itoa(off))
		return "/calls?" + q.Encode()
	})
	c.render(w, r, status, "calls", d)
	return nil
}

// liveCallsTable is the fragment the page refreshes on each call event.
func (c *Console) liveCallsTable(w http.ResponseWriter, r *http.Request) error {
	d := &callsData{}
	c.fillLive(d)
	c.renderBlock(w, r, http.StatusOK, "calls", "live_calls", d)
	return nil
}

func (c *Console) fillLive(d *callsData) {
	if c.liveCalls != nil {
		d.HasLive, d.Live = true, c.liveCalls()
	}
}

// callsData reads the filter form.
func (c *Console) callsData(r *http.Request) (*callsData, hotdesk.CallFilter, error) {
	q := r.URL.Query()
	f := newForm(url.Values{"extension": {q.Get("extension")}, "device": {q.Get("device")}, "result": {q.Get("result")},
		"since": {q.Get("since")}, "until": {q.Get("until")}})
	loc := c.location(r.Context())
	filter := hotdesk.CallFilter{Extension: strings.TrimSpace(f.Get("extension")), Device: strings.TrimSpace(f.Get("device")),
		Result: f.Get("result"), Limit: callsPerPage}
	filter.Since = parseLocal(f, "since", loc, false)
	filter.Until = parseLocal(f, "until", loc, true)
	filter.Offset = offsetParam(q)
	keep := url.Values{}
	for _, k := range []string{"extension", "device", "result", "since", "until"} {
		if v := f.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	d := &callsData{Form: f, Results: admin.CallResults, Query: keep.Encode(), CSV: "/calls/export.csv"}
	if len(keep) > 0 {
		d.CSV += "?" + keep.Encode()
	}
	c.fillLive(d)
	return d, filter, nil
}

// exportCalls downloads the filtered call log as CSV.
func (c *Console) exportCalls(w http.ResponseWriter, r *http.Request) error {
	d, f, err := c.callsData(r)
	if err != nil {
		return err
	}
	if !d.Form.Valid() {
		return hotdesk.Invalidf("", "%s", firstError(d.Form))
	}
	var b strings.Builder
	if err := c.admin.ExportCalls(r.Context(), f, c.location(r.Context()), &b); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="calls.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(b.String()))
	return nil
}

func firstError(f *form) string {
	for _, m := range f.Errors {
		return m
	}
	return f.Error
}
