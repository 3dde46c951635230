package web

import (
	"net/http"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// exportCSV is GET /api/v1/export/{kind}: every user or device as CSV.
func (a *API) exportCSV(w http.ResponseWriter, r *http.Request) error {
	var b strings.Builder
	switch r.PathValue("kind") {
	case admin.ImportUsers:
		if err := a.admin.ExportUsers(r.Context(), &b); err != nil {
			return err
		}
	case admin.ImportDevices:
		if err := a.admin.ExportDevices(r.Context(), &b); err != nil {
			return err
		}
	default:
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "There is no export of %q: use users or devices.", r.PathValue("kind"))
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("kind")+`.csv"`)
	_, _ = w.Write([]byte(b.String()))
	return nil
}

// importIn is the body of POST /api/v1/import/{kind}.
type importIn struct {
	CSV    *string `json:"csv"`
	DryRun bool    `json:"dry_run"`
}

// importCSV is POST /api/v1/import/{kind}: the dry run (dry_run true)
// answers 200 with what each line would change and every error by line;
// otherwise a file without errors is applied in one transaction (200,
// applied true) and a file with errors is refused whole (422, the report).
func (a *API) importCSV(w http.ResponseWriter, r *http.Request) error {
	var in importIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.CSV == nil {
		return hotdesk.Invalidf("csv", "csv is required: the file's text.")
	}
	kind := r.PathValue("kind")
	if kind != admin.ImportUsers && kind != admin.ImportDevices {
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "There is no import of %q: use users or devices.", kind)
	}
	rep, err := a.admin.Import(r.Context(), Source, kind, strings.NewReader(*in.CSV), !in.DryRun)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !rep.OK() && !in.DryRun {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, rep)
	return nil
}

func (a *API) bulkRoutes(mux *patternMux) {
	a.resource(mux, "/api/v1/export/{kind}", methods{"GET": a.exportCSV})
	a.resource(mux, "/api/v1/import/{kind}", methods{"POST": a.importCSV})
}
