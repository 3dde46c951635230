package console

import (
	"net/http"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// routes17 adds the pages of issue 17 (managing hundreds of phones).
func (c *Console) routes17(mux *http.ServeMux) {
	mux.Handle("GET /dashboard", c.auth(c.dashboardPage))
	mux.Handle("POST /devices/{id}/action", c.auth(c.phoneAction))
	mux.Handle("POST /devices/{id}/sip-password", c.auth(c.sipPassword))
	mux.Handle("POST /desks/{id}/retry", c.auth(c.deskRetry))
}

func init() {
	for name, t := range map[string][2]string{
		"dashboard":   {"Dashboard", "dashboard"},
		"sippassword": {"New SIP password", "devices"},
	} {
		titles[name], navOf[name] = t[0], t[1]
	}
	funcs["shortUA"] = shortUA
	funcs["trimPrefix"] = strings.TrimPrefix
	// Events of the login pipeline refresh the desks table live.
	for _, k := range []string{events.KindCheckSync, events.KindCheckSyncFailed, events.KindSubscribed, hotdesk.KindProvisionFetch} {
		liveKinds[k] = true
	}
}
