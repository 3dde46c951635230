package console

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// exportCSV downloads every user or device as CSV (issue 17 item 11).
func (c *Console) exportCSV(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var b strings.Builder
		export := c.admin.ExportUsers
		if kind == admin.ImportDevices {
			export = c.admin.ExportDevices
		}
		if err := export(r.Context(), &b); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+kind+`.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, b.String())
		return nil
	}
}

type importData struct {
	Kind   string
	CSV    string
	Report *admin.ImportReport
	Error  string
}

// importPage is the form: a file or pasted CSV, users or devices.
func (c *Console) importPage(w http.ResponseWriter, r *http.Request) error {
	kind := r.URL.Query().Get("kind")
	if kind != admin.ImportDevices {
		kind = admin.ImportUsers
	}
	c.render(w, r, http.StatusOK, "import", &importData{Kind: kind})
	return nil
}

// importCSV checks the file (the dry run) and shows what it will change,
// with an Apply button that sends the same text again with apply=1; that
// applies it in one transaction or, if it meanwhile fails, shows why.
func (c *Console) importCSV(w http.ResponseWriter, r *http.Request) error {
	d := &importData{Kind: r.PostFormValue("kind"), CSV: r.PostFormValue("csv")}
	if f, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		if err != nil {
			return hotdesk.Errorf(hotdesk.EINVALID, "The file could not be read.")
		}
		if len(b) > 0 {
			d.CSV = string(b)
		}
	}
	if strings.TrimSpace(d.CSV) == "" {
		d.Error = "Choose a CSV file or paste its text."
		c.render(w, r, http.StatusBadRequest, "import", d)
		return nil
	}
	apply := r.PostFormValue("apply") == "1"
	rep, err := c.admin.Import(r.Context(), source(r), d.Kind, strings.NewReader(d.CSV), apply)
	if err != nil {
		return err
	}
	d.Report = rep
	if rep.Applied {
		msg := fmt.Sprintf("Imported %s: %d created, %d updated, %d unchanged.", rep.Kind, rep.Created, rep.Updated, rep.Unchanged)
		return redirect(w, r, "/"+rep.Kind+"?flash="+url.QueryEscape(msg))
	}
	status := http.StatusOK
	if !rep.OK() {
		status = http.StatusBadRequest
	}
	c.render(w, r, status, "import", d)
	return nil
}
