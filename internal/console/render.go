package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/buildinfo"
)

//go:embed templates
var templateFS embed.FS

// pageTemplate is one page: the layout, the shared partials and the page's
// own "content" block.
type pageTemplate struct {
	t *template.Template
}

// page is what every template receives.
type page struct {
	Title string
	Nav   string // active nav entry
	User  string // signed-in admin
	CSRF  string
	Loc   *time.Location
	Flash string
	Data  any
}

var funcs = template.FuncMap{
	"version": func() string { return buildinfo.Get().Short() },
	"local":   func(t time.Time, loc *time.Location) string { return inZone(t, loc, "2006-01-02 15:04") },
	// localSec is to the second, for the audit trail: events of one
	// minute (a login, the logout it caused) must read in order.
	"localSec": func(t time.Time, loc *time.Location) string { return inZone(t, loc, "2006-01-02 15:04:05") },
	"clock":    clockTime,
	"civic":    civicCheck,
	"fld": func(f *form, name, label, typ string, hint ...string) field {
		return field{F: f, Name: name, Label: label, Type: typ, Hint: strings.Join(hint, " ")}
	},
	"listHead": func(title, kind, one string) listHead { return listHead{Title: title, Kind: kind, One: one} },
	"opt":      func(value, label string) option { return option{Value: value, Label: label} },
	"opts":     func(os ...option) []option { return os },
	"sel": func(f *form, name, label string, os []option) selectField {
		return selectField{field: field{F: f, Name: name, Label: label}, Options: os}
	},
	"join":       strings.Join,
	"callResult": func(c *hotdesk.CallRecord) string { return strings.ReplaceAll(c.Result, "_", " ") },
	"talk":       talkTime,
	"duration":   duration,
	"pick": func(c bool, a, b string) string {
		if c {
			return a
		}
		return b
	},
}

// clockTime shows t as "15:04" when it is on the same day as now in the
// site's time zone, else with the date ("Mon 2 Mar 15:04"), so a login
// left from yesterday does not read as today's.
func clockTime(t, now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t, now = t.In(loc), now.In(loc)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	if t.Year() == now.Year() {
		return t.Format("Mon 2 Jan 15:04")
	}
	return t.Format("2 Jan 2006 15:04")
}

// talkTime is how long an answered call talked ("1:05", "1:02:03"), "in
// progress" while it lasts, and "" for an unanswered call.
func talkTime(c *hotdesk.CallRecord) string {
	switch {
	case c.Answer == nil:
		return ""
	case c.End == nil:
		return "in progress"
	}
	s := int(c.End.Sub(*c.Answer).Round(time.Second).Seconds())
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// field is one labelled form input with its error.
type field struct {
	F                       *form
	Name, Label, Type, Hint string
}

type option struct{ Value, Label string }

// listHead is the head of a list page with CSV export and import (users,
// devices): its title, the kind in its paths (/users/new,
// /import?kind=users) and one thing's name ("user").
type listHead struct{ Title, Kind, One string }

type selectField struct {
	field
	Options []option
}

// parsePages parses every page under templates/pages with the layout and
// partials.
func parsePages() (map[string]*pageTemplate, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	pages := make(map[string]*pageTemplate, len(files))
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		pages[strings.TrimSuffix(path.Base(f), ".html")] = &pageTemplate{t: t}
	}
	return pages, nil
}

// render writes a whole page (or, for htmx, the named partial) after
// executing into a buffer, so a template failure never leaves half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	c.renderBlock(w, r, status, name, "layout", data)
}

func (c *Console) renderBlock(w http.ResponseWriter, r *http.Request, status int, name, block string, data any) {
	pt, ok := c.pages[name]
	if !ok {
		c.log.Error("console: no template", "name", name)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	p := c.pageFor(r, name, data)
	if block == "layout" {
		p.Flash = takeFlash(w, r) // a whole page shows it; an htmx fragment leaves it
	}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, block, p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (c *Console) pageFor(r *http.Request, name string, data any) *page {
	p := &page{Title: titles[name], Nav: navOf[name], Data: data, Loc: time.UTC}
	if s := sessionOf(r); s != nil {
		p.User, p.CSRF = s.Username, s.CSRF
		p.Loc = c.location(r.Context())
	}
	if m, ok := data.(interface{ title() string }); ok && m.title() != "" {
		p.Title = m.title()
	}
	return p
}

var titles = map[string]string{
	"signin": "Sign in", "desks": "Desks", "logoutall": "Log everyone out", "users": "Users",
	"user": "User", "usernew": "New user", "devices": "Devices", "device": "Device",
	"devicenew": "New device", "created": "Created", "audit": "Audit log", "settings": "Settings",
	"error": "Error",
}

var navOf = map[string]string{
	"desks": "desks", "logoutall": "desks", "users": "users", "user": "users", "usernew": "users",
	"devices": "devices", "device": "devices", "devicenew": "devices", "audit": "audit", "settings": "settings",
}

// form holds what was typed and what is wrong with it, so a failed
// submission re-renders with every value kept and each message beside its
// field.
type form struct {
	Values url.Values
	Errors map[string]string
	Error  string // a message not tied to one field
}

func newForm(v url.Values) *form {
	if v == nil {
		v = url.Values{}
	}
	return &form{Values: v, Errors: map[string]string{}}
}

// Get returns the submitted value of name.
func (f *form) Get(name string) string { return f.Values.Get(name) }

// Err returns the error message for name.
func (f *form) Err(name string) string { return f.Errors[name] }

// Checked reports whether a checkbox was ticked.
func (f *form) Checked(name string) bool {
	v := f.Values.Get(name)
	return v == "on" || v == "true" || v == "1"
}

// Int is the whole number in the field name: def when it is empty, -1
// (out of range for every setting, so validation names the field) when it
// is not a number.
func (f *form) Int(name string, def int) int {
	v := strings.TrimSpace(f.Values.Get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// Is reports whether name has the value v (for selects).
func (f *form) Is(name, v string) bool { return f.Values.Get(name) == v }

// Fail records a field error; the first one for a field wins.
func (f *form) Fail(name, msg string) {
	if _, ok := f.Errors[name]; !ok {
		f.Errors[name] = msg
	}
}

// Valid reports whether no errors were recorded.
func (f *form) Valid() bool { return len(f.Errors) == 0 && f.Error == "" }

// Apply records err against its field (EINVALID with a field), or as the
// form's general message. It returns false for errors a form cannot show
// (internal failures), which the caller should return instead.
func (f *form) Apply(err error, fallbackField string) bool {
	switch hotdesk.ErrorCode(err) {
	case hotdesk.EINVALID, hotdesk.ECONFLICT, hotdesk.EFORBIDDEN, hotdesk.ENOTFOUND, hotdesk.ELOCKED:
	default:
		return false
	}
	name := hotdesk.ErrorField(err)
	if name == "" {
		name = fallbackField
	}
	if name == "" {
		f.Error = hotdesk.ErrorMessage(err)
	} else {
		f.Fail(name, hotdesk.ErrorMessage(err))
	}
	return true
}

// ApplyAll records every field error of err (see admin.Fields) on the form
// field rename gives (nil: the same name), or the form's general message.
// It returns false for errors a form cannot show, which the caller returns.
func (f *form) ApplyAll(err error, rename func(string) string) bool {
	switch hotdesk.ErrorCode(err) {
	case hotdesk.EINVALID, hotdesk.ECONFLICT, hotdesk.EFORBIDDEN, hotdesk.ENOTFOUND, hotdesk.ELOCKED:
	default:
		return false
	}
	for _, e := range admin.Fields(err) {
		switch {
		case e.Field == "":
			f.Error = e.Message
		case rename != nil:
			f.Fail(rename(e.Field), e.Message)
		default:
			f.Fail(e.Field, e.Message)
		}
	}
	return true
}

// show renders page with data unless loading the data failed (err), which
// it returns.
func (c *Console) show(w http.ResponseWriter, r *http.Request, status int, page string, data any, err error) error {
	if err != nil {
		return err
	}
	c.render(w, r, status, page, data)
	return nil
}

// saveForm saves a form through the admin service: it calls save unless the
// form has errors already, and puts the field errors save returns on the
// form (ApplyAll with rename). It returns what save returned, or an error
// the form cannot show; f.Valid then says whether to show the form again.
func saveForm[T any](f *form, rename func(string) string, save func() (T, error)) (T, error) {
	var v T
	if !f.Valid() {
		return v, nil
	}
	v, err := save()
	if err != nil && !f.ApplyAll(err, rename) {
		return v, err
	}
	return v, nil
}

// bool returns "on" for true, for seeding checkbox values.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return ""
}

// inZone formats t in loc (UTC when nil); the zero time is "".
func inZone(t time.Time, loc *time.Location, layout string) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(layout)
}
