package console

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// The trunks page (issue 16): the further named trunks beside the default
// one (Settings.Trunks), which sites name as their emergency trunk. One
// form holds a row per trunk and an empty row to add one; a row is
// removed by ticking its Remove box. Fields are "t<row>_<json name>"; a
// row's "t<row>_orig" carries the name it was loaded with, so an empty
// password keeps that trunk's stored one and is never echoed. Saving goes
// through the admin service, whose errors (trunks.<i>.<field>) land on
// the row's fields.

func init() {
	titles["trunks"], navOf["trunks"] = "Trunks", "settings"
}

// maxTrunkRows bounds the rows a posted form is read for.
const maxTrunkRows = 100

// trunkRoutes adds the routes of this file to mux.
func (c *Console) trunkRoutes(mux *http.ServeMux) {
	mux.Handle("GET /settings/trunks", c.auth(c.trunksPage))
	mux.Handle("POST /settings/trunks", c.auth(c.trunksSave))
}

type trunkRow struct {
	I           int
	New         bool // the empty row that adds a trunk
	HasPassword bool
	UsedBy      []string // sites that send emergency calls through it
}

type trunksData struct {
	Form *form
	Rows []trunkRow
}

func trunkKey(i int, name string) string { return "t" + strconv.Itoa(i) + "_" + name }

func (c *Console) trunksPage(w http.ResponseWriter, r *http.Request) error {
	s, err := c.store.GetSettings(r.Context())
	if err != nil {
		return fmt.Errorf("get settings: %w", err)
	}
	f := newForm(url.Values{})
	for i, t := range s.Trunks {
		k := func(name string) string { return trunkKey(i, name) }
		f.Values.Set(k("orig"), t.Name)
		f.Values.Set(k("name"), t.Name)
		f.Values.Set(k("enabled"), onOff(t.Enabled))
		f.Values.Set(k("register"), onOff(t.Register))
		f.Values.Set(k("proxy"), t.Proxy)
		f.Values.Set(k("transport"), cmp.Or(t.Transport, "udp"))
		f.Values.Set(k("domain"), t.Domain)
		f.Values.Set(k("username"), t.Username)
		f.Values.Set(k("realm"), t.Realm)
		f.Values.Set(k("sources"), strings.Join(t.Sources, ", "))
	}
	n := len(s.Trunks)
	f.Values.Set(trunkKey(n, "transport"), "udp")
	f.Values.Set(trunkKey(n, "enabled"), "on")
	f.Values.Set("rows", strconv.Itoa(n+1))
	c.render(w, r, http.StatusOK, "trunks", c.trunksData(r, f, s))
	return nil
}

// trunksData lists the form's rows; the last one without an original
// name and without a name is the one that adds a trunk.
func (c *Console) trunksData(r *http.Request, f *form, cur hotdesk.Settings) trunksData {
	usedBy, _ := c.trunkUsers(r)
	d := trunksData{Form: f}
	for i := range trunkRows(f) {
		orig := f.Get(trunkKey(i, "orig"))
		t, _ := cur.TrunkNamed(orig)
		d.Rows = append(d.Rows, trunkRow{I: i, New: orig == "", HasPassword: orig != "" && t.Name == orig && t.Password != "",
			UsedBy: usedBy[orig]})
	}
	return d
}

// trunkRows is how many rows the form holds.
func trunkRows(f *form) int {
	n, _ := strconv.Atoi(f.Get("rows"))
	return max(0, min(n, maxTrunkRows))
}

// trunksFromForm reads the rows into trunks; at[i] is the form row of
// trunk i. A removed row and an untouched empty new row are left out.
func trunksFromForm(f *form, cur hotdesk.Settings, usedBy map[string][]string) (ts []hotdesk.Trunk, at []int) {
	for i := range trunkRows(f) {
		k := func(name string) string { return trunkKey(i, name) }
		orig := f.Get(k("orig"))
		t := hotdesk.Trunk{Name: strings.TrimSpace(f.Get(k("name"))), Enabled: f.Checked(k("enabled")),
			Proxy: strings.TrimSpace(f.Get(k("proxy"))), Register: f.Checked(k("register")),
			Username: strings.TrimSpace(f.Get(k("username"))), Password: f.Get(k("password")),
			Realm: strings.TrimSpace(f.Get(k("realm"))), Domain: strings.TrimSpace(f.Get(k("domain"))),
			Sources: splitList(f.Get(k("sources"))), Transport: strings.TrimSpace(f.Get(k("transport")))}
		if orig == "" && t.Name == "" && t.Proxy == "" && t.Username == "" && t.Password == "" && t.Domain == "" && len(t.Sources) == 0 {
			continue // the empty row that adds a trunk, left empty
		}
		if f.Checked(k("remove")) {
			if sites := usedBy[orig]; orig != "" && len(sites) > 0 {
				f.Fail(k("remove"), "Site "+strings.Join(sites, ", ")+" sends its emergency calls through this trunk; choose another trunk for it first.")
			}
			continue
		}
		if sites := usedBy[orig]; orig != "" && t.Name != orig && len(sites) > 0 {
			f.Fail(k("name"), "Site "+strings.Join(sites, ", ")+" names this trunk; choose another trunk for it before renaming.")
		}
		if t.Password == "" && orig != "" {
			if old, ok := cur.TrunkNamed(orig); ok {
				t.Password = old.Password
			}
		}
		ts, at = append(ts, t), append(at, i)
	}
	return ts, at
}

func (c *Console) trunksSave(w http.ResponseWriter, r *http.Request) error {
	cur, err := c.store.GetSettings(r.Context())
	if err != nil {
		return fmt.Errorf("get settings: %w", err)
	}
	usedBy, err := c.trunkUsers(r)
	if err != nil {
		return err
	}
	f := newForm(r.PostForm)
	ts, at := trunksFromForm(f, cur, usedBy)
	if f.Valid() {
		s := cur
		s.Trunks = ts
		if _, err := c.admin.PutSettings(r.Context(), source(r), s); err != nil && !f.ApplyAll(err, func(name string) string {
			return trunkField(name, at)
		}) {
			return err
		}
		if msg, ok := f.Errors[""]; ok { // not a row's field: the form's
			delete(f.Errors, "")
			f.Error = cmp.Or(f.Error, msg)
		}
	}
	if !f.Valid() {
		for i := range trunkRows(f) {
			f.Values.Del(trunkKey(i, "password"))
		}
		c.render(w, r, http.StatusBadRequest, "trunks", c.trunksData(r, f, cur))
		return nil
	}
	return redirect(w, r, "/settings/trunks?flash="+url.QueryEscape("Trunks saved."))
}

// trunkField names the form field of the admin's "trunks.<i>.<field>";
// any other field is the form's general error.
func trunkField(name string, at []int) string {
	rest, ok := strings.CutPrefix(name, "trunks.")
	if !ok {
		return ""
	}
	idx, field, ok := strings.Cut(rest, ".")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 || i >= len(at) {
		return ""
	}
	return trunkKey(at[i], field)
}

// trunkUsers maps a trunk name to the sites that name it as their
// emergency trunk.
func (c *Console) trunkUsers(r *http.Request) (map[string][]string, error) {
	sites, err := c.store.ListSites(r.Context())
	if err != nil {
		return nil, fmt.Errorf("sites: %w", err)
	}
	usedBy := map[string][]string{}
	for _, s := range sites {
		if s.Trunk != "" {
			usedBy[s.Trunk] = append(usedBy[s.Trunk], s.Name)
		}
	}
	return usedBy, nil
}

// trunkOptions are the choices of a site's emergency trunk: the default
// trunk and every named one; a current name no longer configured stays
// selectable (marked) so saving the site does not change it silently.
func (c *Console) trunkOptions(r *http.Request, current string) []option {
	os := []option{{Value: "", Label: "Default trunk"}}
	s, err := c.store.GetSettings(r.Context())
	if err != nil {
		c.log.Warn("console: settings", "err", err)
	}
	found := current == ""
	for _, t := range s.Trunks {
		os = append(os, option{Value: t.Name, Label: t.Name})
		found = found || t.Name == current
	}
	if !found {
		os = append(os, option{Value: current, Label: current + " (not configured)"})
	}
	return os
}
