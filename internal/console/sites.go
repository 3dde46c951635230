package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/emergency"
)

// Emergency pages (issue 16): the blocking banner every page loads (and
// reloads on emergency events), its Acknowledge button, the sites and the
// emergency overview (recent emergency calls, each desk's last test).

func init() {
	for name, title := range map[string]string{"sites": "Sites", "site": "Site", "emergency": "Emergency"} {
		titles[name], navOf[name] = title, "emergency"
	}
	// dict passes several values to a shared template (the site form).
	funcs["dict"] = func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	}
}

// emergencyRoutes adds the routes of this file to mux.
func (c *Console) emergencyRoutes(mux *http.ServeMux) {
	mux.Handle("GET /emergency/banner", c.auth(c.emergencyBanner))
	mux.Handle("POST /emergency/{id}/ack", c.auth(admin.ByID("Emergency call", c.emergencyAck)))
	mux.Handle("GET /emergency", c.auth(c.emergencyPage))
	mux.Handle("GET /sites", c.auth(c.sitesPage))
	mux.Handle("POST /sites", c.auth(c.siteCreate))
	mux.Handle("GET /sites/{id}", c.auth(admin.ByID("Site", c.sitePage)))
	mux.Handle("POST /sites/{id}", c.auth(admin.ByID("Site", c.siteUpdate)))
	mux.Handle("POST /sites/{id}/delete", c.auth(admin.ByID("Site", c.siteDelete)))
}

// alertRow is one unacknowledged emergency call in the banner.
type alertRow struct {
	Call     *hotdesk.EmergencyCall
	Site     string
	Location string
}

type bannerData struct {
	Alerts []alertRow
	Now    time.Time
}

// bannerWindow bounds how old an unacknowledged call still shows.
const bannerWindow = 24 * time.Hour

// emergencyBanner is the fragment of unacknowledged emergency calls.
func (c *Console) emergencyBanner(w http.ResponseWriter, r *http.Request) error {
	d, err := c.banner(r.Context())
	if err != nil {
		return err
	}
	c.renderBlock(w, r, http.StatusOK, "emergency", "emergency_banner", d)
	return nil
}

func (c *Console) banner(ctx context.Context) (*bannerData, error) {
	calls, err := c.store.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Unacked: true, Since: c.now().Add(-bannerWindow), Limit: 20})
	if err != nil {
		return nil, fmt.Errorf("emergency calls: %w", err)
	}
	d := &bannerData{Now: c.now()}
	if len(calls) == 0 {
		return d, nil
	}
	names := c.siteNames(ctx)
	for _, call := range calls {
		d.Alerts = append(d.Alerts, alertRow{Call: call, Site: names[call.Site], Location: emergency.LocationText(call.Location)})
	}
	return d, nil
}

func (c *Console) siteNames(ctx context.Context) map[int64]string {
	names := map[int64]string{}
	sites, err := c.store.ListSites(ctx)
	if err != nil {
		c.log.Warn("console: sites", "err", err)
	}
	for _, s := range sites {
		names[s.ID] = s.Name
	}
	return names
}

// emergencyAck acknowledges an alert as the signed-in admin.
func (c *Console) emergencyAck(w http.ResponseWriter, r *http.Request, id int64) error {
	by := "console"
	if s := sessionOf(r); s != nil {
		by = s.Username
	}
	if _, err := c.admin.AckEmergency(r.Context(), source(r), id, by, "console"); err != nil {
		return err
	}
	if isHTMX(r) {
		return c.emergencyBanner(w, r)
	}
	back := r.PostForm.Get("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/"
	}
	return redirect(w, r, back)
}

// deskEmergency is what the desks page shows of issue 16 for one desk.
type deskEmergency struct {
	Moved         string     // why the phone seems moved, "" when not
	CallbackUntil *time.Time // the callback window after its emergency call
	LastTest      *time.Time
}

// annotate adds moved flags, callback windows and last tests to rows.
func (c *Console) annotate(ctx context.Context, rows []deskRow) {
	sites, err := c.store.ListSites(ctx)
	if err != nil {
		c.log.Warn("console: sites", "err", err)
	}
	siteOf := map[string]*hotdesk.Site{}
	for _, s := range sites {
		for _, d := range s.Devices {
			siteOf[d] = s
		}
	}
	st, _ := c.store.GetSettings(ctx)
	window := time.Duration(st.EmergencyAlerts.CallbackMinutes) * time.Minute
	if window <= 0 {
		window = emergency.DefaultCallbackWindow
	}
	real := false
	recent, err := c.store.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Since: c.now().Add(-window), Test: &real, Limit: 1000})
	if err != nil {
		c.log.Warn("console: emergency calls", "err", err)
	}
	tests, err := c.store.LastEmergencyTests(ctx)
	if err != nil {
		c.log.Warn("console: emergency tests", "err", err)
	}
	for i := range rows {
		id := rows[i].Device.ID
		e := &rows[i].Emergency
		if s := siteOf[id]; s != nil {
			for _, b := range c.regs.Contacts(id) {
				if emergency.Moved(s, b.Source) {
					e.Moved = fmt.Sprintf("registered from %s, not a network of site %s", b.Source, s.Name)
					if at := emergency.SiteOfNetwork(sites, b.Source); at != nil {
						e.Moved += " (it is site " + at.Name + "'s)"
					}
					break
				}
			}
		}
		for _, call := range recent { // newest first
			if strings.EqualFold(call.Device, id) {
				until := call.Time.Add(window)
				e.CallbackUntil = &until
				break
			}
		}
		if t, ok := tests[id]; ok {
			e.LastTest = &t
		}
	}
}

type emergencyData struct {
	Calls []alertRow
	Tests []testRow
	Now   time.Time
}

type testRow struct {
	Device *hotdesk.Device
	Site   string
	Last   *time.Time
}

// emergencyPage lists recent emergency calls and when each desk was last
// tested with the test number.
func (c *Console) emergencyPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	calls, err := c.store.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Limit: 50})
	if err != nil {
		return fmt.Errorf("emergency calls: %w", err)
	}
	names := c.siteNames(ctx)
	d := &emergencyData{Now: c.now()}
	for _, call := range calls {
		d.Calls = append(d.Calls, alertRow{Call: call, Site: names[call.Site], Location: emergency.LocationText(call.Location)})
	}
	devs, _, err := c.store.FindDevices(ctx, hotdesk.DeviceFilter{})
	if err != nil {
		return fmt.Errorf("devices: %w", err)
	}
	tests, err := c.store.LastEmergencyTests(ctx)
	if err != nil {
		return fmt.Errorf("emergency tests: %w", err)
	}
	sites, _ := c.store.ListSites(ctx)
	siteOf := map[string]string{}
	for _, s := range sites {
		for _, id := range s.Devices {
			siteOf[id] = s.Name
		}
	}
	for _, dev := range devs {
		row := testRow{Device: dev, Site: siteOf[dev.ID]}
		if t, ok := tests[dev.ID]; ok {
			row.Last = &t
		}
		d.Tests = append(d.Tests, row)
	}
	c.render(w, r, http.StatusOK, "emergency", d)
	return nil
}

type sitesData struct {
	Sites  []*hotdesk.Site
	Form   *form
	Trunks []option // the emergency trunk select
}

type siteData struct {
	Site   *hotdesk.Site
	Form   *form
	Trunks []option // the emergency trunk select
}

func (d siteData) title() string { return "Site " + d.Site.Name }

func (c *Console) sitesPage(w http.ResponseWriter, r *http.Request) error {
	sites, err := c.admin.ListSites(r.Context())
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "sites", sitesData{Sites: sites, Form: newForm(nil), Trunks: c.trunkOptions(r, "")})
	return nil
}

// siteFromForm reads a site from the sites form: lists are one per line
// or comma-separated.
func siteFromForm(f *form) hotdesk.Site {
	get := f.Values.Get
	return hotdesk.Site{Name: get("name"), Trunk: get("trunk"), Callback: get("callback"),
		Networks: splitLines(get("networks")), Devices: splitLines(get("devices")),
		Location: hotdesk.Location{Text: get("text"), Country: get("country"), A1: get("a1"), A3: get("a3"), Street: get("street"),
			HouseNo: get("house_no"), Postcode: get("postcode"), Building: get("building"), Floor: get("floor")}}
}

func splitLines(s string) []string {
	out := []string{}
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' || r == ' ' }) {
		out = append(out, v)
	}
	return out
}

// siteField maps the admin's JSON field names to the form's.
func siteField(name string) string {
	return strings.TrimPrefix(name, "location.")
}

func (c *Console) siteCreate(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r.PostForm)
	s, err := c.admin.CreateSite(r.Context(), source(r), siteFromForm(f))
	if err != nil {
		if !f.ApplyAll(err, siteField) {
			return err
		}
		sites, lerr := c.admin.ListSites(r.Context())
		if lerr != nil {
			return lerr
		}
		c.render(w, r, http.StatusBadRequest, "sites", sitesData{Sites: sites, Form: f, Trunks: c.trunkOptions(r, f.Get("trunk"))})
		return nil
	}
	return redirect(w, r, "/sites?flash="+urlq("Site "+s.Name+" created."))
}

func (c *Console) sitePage(w http.ResponseWriter, r *http.Request, id int64) error {
	s, err := c.admin.FindSite(r.Context(), id)
	if err != nil {
		return err
	}
	l := s.Location
	f := newForm(map[string][]string{"name": {s.Name}, "trunk": {s.Trunk}, "callback": {s.Callback},
		"networks": {strings.Join(s.Networks, "\n")}, "devices": {strings.Join(s.Devices, "\n")}, "text": {l.Text},
		"country": {l.Country}, "a1": {l.A1}, "a3": {l.A3}, "street": {l.Street}, "house_no": {l.HouseNo},
		"postcode": {l.Postcode}, "building": {l.Building}, "floor": {l.Floor}})
	c.render(w, r, http.StatusOK, "site", siteData{Site: s, Form: f, Trunks: c.trunkOptions(r, s.Trunk)})
	return nil
}

func (c *Console) siteUpdate(w http.ResponseWriter, r *http.Request, id int64) error {
	f := newForm(r.PostForm)
	s, err := c.admin.UpdateSite(r.Context(), source(r), id, siteFromForm(f))
	if err != nil {
		if !f.ApplyAll(err, siteField) {
			return err
		}
		c.render(w, r, http.StatusBadRequest, "site", siteData{Site: &hotdesk.Site{ID: id, Name: f.Values.Get("name")}, Form: f,
			Trunks: c.trunkOptions(r, f.Get("trunk"))})
		return nil
	}
	return redirect(w, r, "/sites?flash="+urlq("Site "+s.Name+" saved."))
}

func (c *Console) siteDelete(w http.ResponseWriter, r *http.Request, id int64) error {
	if err := c.admin.DeleteSite(r.Context(), source(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/sites?flash="+urlq("Site deleted."))
}
