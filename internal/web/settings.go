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
	Trunk  trunkOut   `json:"trunk"`
	Trunks []trunkOut `json:"trunks"` // further trunks, passwords hidden alike
	Mail   mailOut    `json:"mail"`
}

func settingsJSON(s hotdesk.Settings) settingsOut {
	m := s.Mail
	m.Password = ""
	out := settingsOut{Settings: s, Trunk: hideTrunk(s.Trunk), Trunks: []trunkOut{},
		Mail: mailOut{MailSettings: m, PasswordSet: s.Mail.Password != ""}}
	for _, t := range s.Trunks {
		out.Trunks = append(out.Trunks, hideTrunk(t))
	}
	return out
}

func hideTrunk(t hotdesk.Trunk) trunkOut {
	out := trunkOut{Trunk: t, PasswordSet: t.Password != ""}
	out.Password = ""
	return out
}

// keepPassword applies the password rule of PUT to one trunk: a new
// password replaces, password_set false clears, else cur's stays.
func keepPassword(in trunkIn, cur hotdesk.Trunk) hotdesk.Trunk {
	t := in.Trunk
	switch {
	case t.Password != "":
	case in.PasswordSet != nil && !*in.PasswordSet:
		t.Password = ""
	default:
		t.Password = cur.Password
	}
	return t
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
	Trunk  *trunkIn   `json:"trunk"`
	Trunks *[]trunkIn `json:"trunks"` // nil: not given, kept
	Mail   *mailIn    `json:"mail"`
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
	s.Trunks = cur.Trunks
	if in.Trunks != nil {
		s.Trunks = nil
		for _, t := range *in.Trunks {
			old, _ := cur.TrunkNamed(t.Name)
			if old.Name != t.Name {
				old = hotdesk.Trunk{}
			}
			t.Sources = splitList(t.Sources)
			s.Trunks = append(s.Trunks, keepPassword(t, old))
		}
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
