package web

import (
	"net/http"

	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// phoneActionOut answers a phone action.
type phoneActionOut struct {
	Device   string `json:"device"`
	Action   string `json:"action"`
	Contacts int    `json:"contacts"` // registered contacts the NOTIFY went to; 0: not registered, nothing sent
}

// phoneAction returns the handler of POST /api/v1/devices/{id}/<action>:
// check-sync, reprovision (check-sync;reboot=false) or reboot
// (check-sync;reboot=true) to every registered contact of the phone.
func (a *API) phoneAction(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		n, err := a.admin.PhoneAction(r.Context(), Source, id, action)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, phoneActionOut{Device: id, Action: action, Contacts: n})
		return nil
	}
}

// resetSIPPassword gives the phone a new random SIP password and returns
// it: the only time it is shown.
func (a *API) resetSIPPassword(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	pw, err := a.admin.ResetSIPPassword(r.Context(), Source, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Device      string `json:"device"`
		SIPPassword string `json:"sip_password"`
	}{id, pw})
	return nil
}

func (a *API) phoneRoutes(mux *patternMux) {
	a.resource(mux, "/api/v1/devices/{id}/check-sync", methods{"POST": a.phoneAction(admin.ActionCheckSync)})
	a.resource(mux, "/api/v1/devices/{id}/reprovision", methods{"POST": a.phoneAction(admin.ActionReprovision)})
	a.resource(mux, "/api/v1/devices/{id}/reboot", methods{"POST": a.phoneAction(admin.ActionReboot)})
	a.resource(mux, "/api/v1/devices/{id}/sip-password", methods{"POST": a.resetSIPPassword})
}
