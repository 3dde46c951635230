package web

import (
	"net/http"

	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// routes17 adds the endpoints of issue 17 (managing hundreds of phones).
func (a *API) routes17(mux *patternMux) {
	a.resource(mux, "/api/v1/summary", methods{"GET": a.summary})
	a.phoneRoutes(mux)
	a.bulkRoutes(mux)
	a.callLogRoutes(mux)
}

// summaryOut is the dashboard's figures.
type summaryOut struct {
	*admin.Summary
	LiveCalls int               `json:"live_calls"`
	Trunk     *admin.TrunkState `json:"trunk"` // null when the API has no trunk source
}

// summary is the console dashboard as JSON: phones registered/total, desks
// occupied, today's logins and failed logins, locks, live calls, the trunk
// and the latest audit events.
func (a *API) summary(w http.ResponseWriter, r *http.Request) error {
	sum, err := a.admin.Summary(r.Context(), a.registered)
	if err != nil {
		return err
	}
	out := summaryOut{Summary: sum}
	sum.LockedUsers, sum.LockedPhones, sum.Recent = orEmpty(sum.LockedUsers), orEmpty(sum.LockedPhones), orEmpty(sum.Recent)
	if a.calls != nil {
		out.LiveCalls = len(a.calls.Live())
	}
	if a.trunk != nil {
		t := a.trunk()
		out.Trunk = &t
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// registered reports whether a device has a live contact.
func (a *API) registered(device string) bool {
	return a.regs != nil && len(a.regs.Contacts(device)) > 0
}
