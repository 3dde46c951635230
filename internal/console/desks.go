package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Desk states for the filter.
const (
	stateFree         = "free"
	stateOccupied     = "occupied"
	stateUnregistered = "unregistered"
)

// deskRow is one hot desk phone as the desks table shows it.
type deskRow struct {
	Device     *hotdesk.Device
	Registered bool
	Contacts   int
	Login      *hotdesk.Login
	UserName   string
	For        string        // how long the user has been there
	Call       string        // callUp, callRinging or ""
	Locked     *time.Time    // PIN logins from it refused until, nil unless locked now
	Waiting    int           // new voicemail of the logged-in user (the phone's message lamp)
	Emergency  deskEmergency // moved?, callback window, last test (issue 16)
	Phone      phoneInfo
}

// State is free, occupied or unregistered (unregistered wins over free).
func (d deskRow) State() string {
	switch {
	case d.Login != nil:
		return stateOccupied
	case !d.Registered:
		return stateUnregistered
	}
	return stateFree
}

// Is reports whether the row passes the state filter. The filters overlap
// on purpose: "unregistered" lists every phone that is offline, occupied or
// not — an occupied phone that is offline is the one to go and look at.
func (d deskRow) Is(state string) bool {
	switch state {
	case "":
		return true
	case stateUnregistered:
		return !d.Registered
	}
	return d.State() == state
}

type desksData struct {
	Rows      []deskRow
	Locations []string
	Location  string
	State     string
	Total     int
	Occupied  int
	Online    int
	Query     string    // current filter as a query string
	Now       time.Time // for showing login times relative to today
	deskPage            // search and paging (issue 17 item 11)
}

func (c *Console) desksPage(w http.ResponseWriter, r *http.Request) error {
	d, err := c.desks(r)
	return c.show(w, r, http.StatusOK, "desks", d, err)
}

// desksTable is the fragment htmx swaps in on every live update.
func (c *Console) desksTable(w http.ResponseWriter, r *http.Request) error {
	d, err := c.desks(r)
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Trigger") == "filters" {
		// The address bar keeps the filter, so a reload or a shared link
		// shows the same desks.
		w.Header().Set("HX-Replace-Url", "/?"+d.Query)
	}
	c.renderBlock(w, r, http.StatusOK, "desks", "desks_table", d)
	return nil
}

// desks loads every hot desk phone with its registration and login,
// filtered by the location and state query parameters.
func (c *Console) desks(r *http.Request) (*desksData, error) {
	ctx := r.Context()
	devs, _, err := c.store.FindDevices(ctx, hotdesk.DeviceFilter{Mode: hotdesk.ModeHotdesk})
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	logins, err := c.store.ListLogins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list logins: %w", err)
	}
	byDevice := make(map[string]*hotdesk.Login, len(logins))
	for _, l := range logins {
		byDevice[l.Device] = l
	}
	users, err := c.usersByExt(r, len(logins))
	if err != nil {
		return nil, err
	}
	blf := func(ext string) bool { return users[ext] != nil && len(users[ext].BLF) > 0 }
	loc := c.location(ctx)
	c.seedPhones(r)
	q := r.URL.Query()
	d := &desksData{Location: q.Get("location"), State: q.Get("state"), Now: c.now()}
	d.Query = "location=" + urlq(d.Location) + "&state=" + urlq(d.State)
	d.deskPage = newDeskPage(q)
	d.Query += d.deskPage.query()
	seen := map[string]bool{}
	now := c.now()
	for _, dev := range devs {
		row := deskRow{Device: dev, Login: byDevice[dev.ID], Locked: desk.ActiveLock(dev.LockedUntil, now)}
		contacts := c.regs.Contacts(dev.ID)
		row.Contacts = len(contacts)
		row.Registered = row.Contacts > 0
		row.Call = c.calls.state(dev.ID)
		row.Phone = c.phone(dev.ID, contacts, blf, loc)
		if row.Login != nil {
			if u := users[row.Login.Extension]; u != nil {
				row.UserName = u.Name
			}
			row.For = since(now.Sub(row.Login.Since))
		}
		if loc := dev.Location.Text; loc != "" && !seen[loc] {
			seen[loc] = true
			d.Locations = append(d.Locations, loc)
		}
		d.Total++
		if row.Login != nil {
			d.Occupied++
		}
		if row.Registered {
			d.Online++
		}
		if (d.Location == "" || dev.Location.Text == d.Location) && row.Is(d.State) && d.matches(row) {
			d.Rows = append(d.Rows, row)
		}
	}
	slices.Sort(d.Locations)
	d.Rows = d.page(d.Rows, "/?location="+urlq(d.Location)+"&state="+urlq(d.State))
	// Per-row reads only for the rows on this page (1,000+ desks).
	for i := range d.Rows {
		if l := d.Rows[i].Login; l != nil {
			d.Rows[i].Waiting = c.waiting(ctx, l.Extension)
		}
	}
	c.annotate(ctx, d.Rows)
	return d, nil
}

// usersByExt maps extensions to users for the logged-in users: one query
// for all users rather than one per occupied desk, since every open tab
// reloads the table on each change (BenchmarkDesksTable, 500 desks with
// 400 occupied: 18 → 14 ms; the rest is template rendering).
func (c *Console) usersByExt(r *http.Request, logins int) (map[string]*hotdesk.User, error) {
	if logins == 0 {
		return nil, nil
	}
	return admin.UsersByExt(r.Context(), c.store)
}

// since renders a duration as "3 min", "2 h 5 min", "3 d".
func since(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d d", int(d.Hours())/24)
}

// deskLogout logs out whoever is at one desk, through the desk Service.
func (c *Console) deskLogout(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	_, err := c.desk.Logout(r.Context(), id, hotdesk.ReasonAdmin, source(r))
	if err != nil && hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		return err // already free is fine: someone else was quicker
	}
	if isHTMX(r) {
		r.URL.RawQuery = r.PostForm.Get("filter")
		return c.desksTable(w, r)
	}
	return redirect(w, r, "/?flash="+urlq("Logged out of "+id+"."))
}

type logoutAllData struct{ Count int }

// logoutAllPage is the confirmation step before logging everyone out.
func (c *Console) logoutAllPage(w http.ResponseWriter, r *http.Request) error {
	ls, err := c.store.ListLogins(r.Context())
	if err != nil {
		return fmt.Errorf("list logins: %w", err)
	}
	c.render(w, r, http.StatusOK, "logoutall", logoutAllData{Count: len(ls)})
	return nil
}

func (c *Console) logoutAll(w http.ResponseWriter, r *http.Request) error {
	ended, err := c.desk.LogoutAll(r.Context(), hotdesk.ReasonAdmin, source(r))
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Logged out %d users.", len(ended))
	if len(ended) == 1 {
		msg = "Logged out 1 user."
	}
	return redirect(w, r, "/?flash="+urlq(msg))
}

// liveKinds are the bus events that change the desks table.
var liveKinds = map[string]bool{
	hotdesk.KindLogin: true, hotdesk.KindLogout: true, hotdesk.KindRegistered: true,
	hotdesk.KindUnregistered: true, hotdesk.KindDeviceChanged: true, hotdesk.KindUserChanged: true,
	hotdesk.KindLocked: true, hotdesk.KindUnlocked: true, hotdesk.KindVoicemail: true,
	// issue 16: the emergency banner reloads on these (console.js)
	hotdesk.KindEmergency: true, hotdesk.KindEmergencyAck: true, hotdesk.KindPhoneMoved: true,
}

// stream is the console's server-sent events endpoint: one "desk" event
// per change; console.js answers each by refreshing the desks table. The
// response ends after StreamMax and the browser reconnects, so shutdown
// never waits long on an open tab.
func (c *Console) stream(w http.ResponseWriter, r *http.Request) error {
	if c.bus == nil {
		return hotdesk.Errorf(hotdesk.EUNAVAILABLE, "Live updates are not available.")
	}
	s := events.Stream{Bus: c.bus, Buffer: 64, Heartbeat: 25 * time.Second, Max: c.maxSSE, Done: c.done, Log: c.log}
	s.Serve(w, r, c.deskFrame)
	return nil
}

// deskFrame is what the desks page hears of an event: its kind, device
// and extension, under the one event name "desk".
func (c *Console) deskFrame(e events.Event) (string, any, bool) {
	if isCallKind(e.Kind) {
		if e.Device == "" {
			return "", nil, false // a call still ringing several phones
		}
		// Applied here too (in Seq order, so twice is harmless): the
		// table this event makes the browser fetch must show it.
		c.calls.apply(e)
	} else if !liveKinds[e.Kind] {
		return "", nil, false
	}
	return "desk", struct {
		Kind      string `json:"kind"`
		Device    string `json:"device,omitempty"`
		Extension string `json:"extension,omitempty"`
	}{e.Kind, e.Device, e.Extension}, true
}

func urlq(s string) string { return url.QueryEscape(s) }
