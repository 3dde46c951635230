package web

import (
	"fmt"
	"net/http"

	"github.com/hotdesk-pbx/hotdesk"
)

// trunkOut is the trunk without its password: password_set says whether
// one is stored.
type trunkOut struct {
	hotdesk.Trunk
	PasswordSet bool `json:"password_set"`
}

// mailOut is the SMTP settings without the password, like trunkOut.
type mailOut struct {
	hotdesk.MailSettings
	PasswordSet bool `json:"password_set"`
}

// settingsOut is hotdesk.Settings with the trunk and mail passwords hidden
// (the shallower fields win over the embedded ones in encoding/json).
type settingsOut struct {
	hotdesk.Settings
	Trunk trunkOut `json:"trunk"`
	Mail  mailOut  `json:"mail"`
}

func settingsJSON(s hotdesk.Settings) settingsOut {
	t, m := s.Trunk, s.Mail
	t.Password, m.Password = "", ""
	return settingsOut{Settings: s, Trunk: trunkOut{Trunk: t, PasswordSet: s.Trunk.Password != ""},
		Mail: mailOut{MailSettings: m, PasswordSet: s.Mail.Password != ""}}
}

// trunkIn is the trunk as PUT reads it: password_set (echoed from a GET)
// is accepted; password_set false with no password clears the password.
type trunkIn struct {
	hotdesk.Trunk
	PasswordSet *bool `json:"password_set"`
}

// mailIn is the SMTP settings as PUT reads them, like trunkIn.
type mailIn struct {
	hotdesk.MailSettings
	PasswordSet *bool `json:"password_set"`
}

type settingsIn struct {
	hotdesk.Settings
	Trunk *trunkIn `json:"trunk"`
	Mail  *mailIn  `json:"mail"`
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.store.GetSettings(r.Context())
	if err != nil {
		return fmt.Errorf("get settings: %w", err)
	}
	writeJSON(w, http.StatusOK, settingsJSON(s))
	return nil
}

// putSettings replaces the fields the body gives and keeps the others, so
// a GET document edited and sent back works. The trunk password is kept
// unless a new one is given or password_set is false.
func (a *API) putSettings(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	cur, err := a.store.GetSettings(ctx)
	if err != nil {
		return fmt.Errorf("get settings: %w", err)
	}
	in := settingsIn{Settings: cur, Trunk: &trunkIn{Trunk: cur.Trunk}, Mail: &mailIn{MailSettings: cur.Mail}}
	in.Trunk.Password, in.Mail.Password = "", ""
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	s := in.Settings
	if in.Trunk == nil { // "trunk": null
		return hotdesk.Invalidf("trunk", "trunk must be an object.")
	}
	s.Trunk = in.Trunk.Trunk
	switch {
	case s.Trunk.Password != "":
	case in.Trunk.PasswordSet != nil && !*in.Trunk.PasswordSet:
		s.Trunk.Password = ""
	default:
		s.Trunk.Password = cur.Trunk.Password
	}
	if in.Mail == nil {
		return hotdesk.Invalidf("mail", "mail must be an object.")
	}
	s.Mail = in.Mail.MailSettings
	if s.Mail.Password == "" && (in.Mail.PasswordSet == nil || *in.Mail.PasswordSet) {
		s.Mail.Password = cur.Mail.Password
	}
	s.Emergency = splitList(s.Emergency)
	s.Trunk.Sources = splitList(s.Trunk.Sources)
	s, err = a.admin.PutSettings(ctx, Source, s)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsJSON(s))
	return nil
}
