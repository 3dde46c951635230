package console

import (
	"net/http"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// routes17 adds the pages of issue 17 (managing hundreds of phones).
func (c *Console) routes17(mux *http.ServeMux) {
	mux.Handle("GET /dashboard", c.auth(c.dashboardPage))
	mux.Handle("POST /devices/{id}/action", c.auth(c.phoneAction))
	mux.Handle("POST /devices/{id}/sip-password", c.auth(c.sipPassword))
	mux.Handle("POST /desks/{id}/retry", c.auth(c.deskRetry))
	mux.Handle("GET /users/export.csv", c.auth(c.exportCSV(admin.ImportUsers)))
	mux.Handle("GET /devices/export.csv", c.auth(c.exportCSV(admin.ImportDevices)))
	mux.Handle("GET /import", c.auth(c.importPage))
	mux.Handle("GET /calls", c.auth(c.callsPage))
	mux.Handle("GET /admins", c.auth(c.adminsPage))
	mux.Handle("POST /admins", c.auth(c.adminCreate))
	mux.Handle("POST /admins/{name}", c.auth(c.adminAccess))
	mux.Handle("GET /account", c.auth(c.accountPage))
	mux.Handle("GET /webhooks", c.auth(c.webhooksPage))
	mux.Handle("POST /webhooks", c.auth(c.webhookCreate))
	mux.Handle("POST /webhooks/{id}", c.auth(admin.ByID("Webhook", c.webhookToggle)))
	mux.Handle("POST /webhooks/{id}/delete", c.auth(admin.ByID("Webhook", c.webhookDelete)))
	mux.Handle("GET /users/{ext}/speed-dials", c.auth(c.speedDialsPage))
	mux.Handle("POST /users/{ext}/speed-dials", c.auth(c.speedDialsSave))
	mux.Handle("POST /account/password", c.auth(c.changePassword))
	mux.Handle("GET /calls/live", c.auth(c.liveCallsTable))
	mux.Handle("GET /calls/export.csv", c.auth(c.exportCalls))
	mux.Handle("POST /import", multipartForm(c.auth(c.importCSV)))
}

func init() {
	for name, t := range map[string][2]string{
		"dashboard":   {"Dashboard", "dashboard"},
		"sippassword": {"New SIP password", "devices"},
		"import":      {"Import CSV", "users"},
		"calls":       {"Calls", "calls"},
		"admins":      {"Console accounts", "settings"},
		"account":     {"Your account", ""},
		"webhooks":    {"Webhooks", "webhooks"},
		"speeddials":  {"Speed dials", "users"},
	} {
		titles[name], navOf[name] = t[0], t[1]
	}
	funcs["shortUA"] = shortUA
	funcs["trimPrefix"] = strings.TrimPrefix
	funcs["splitList"] = func(s string) []string { return strings.Split(s, ", ") }
	// Events of the login pipeline refresh the desks table live.
	for _, k := range []string{events.KindCheckSync, events.KindCheckSyncFailed, events.KindSubscribed, hotdesk.KindProvisionFetch} {
		liveKinds[k] = true
	}
}

// maxUpload bounds an uploaded CSV file with its form.
const maxUpload = 2 << 20

// multipartForm parses a multipart/form-data body (a file upload) before
// the session and CSRF checks, which read the form's csrf field.
func multipartForm(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
			if err := r.ParseMultipartForm(maxUpload); err != nil {
				http.Error(w, "The upload is too large or malformed (at most 2 MB).", http.StatusBadRequest)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
