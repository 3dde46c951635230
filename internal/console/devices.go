package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

type deviceRow struct {
	Device     *hotdesk.Device
	Registered bool
	Login      *hotdesk.Login
	Locked     *time.Time // PIN logins from it refused until, nil unless locked now
	Phone      phoneInfo
}

type devicesData struct {
	Rows    []deviceRow
	Q, Mode string
	Total   int
	pager
}

func (c *Console) devicesPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	qv := r.URL.Query()
	q, mode := strings.TrimSpace(qv.Get("q")), qv.Get("mode")
	off := offsetParam(qv)
	devs, total, err := c.store.FindDevices(ctx, hotdesk.DeviceFilter{Search: q, Mode: mode, Offset: off, Limit: pageSize})
	if err != nil {
		return fmt.Errorf("list devices: %w", err)
	}
	logins, err := c.store.ListLogins(ctx)
	if err != nil {
		return fmt.Errorf("list logins: %w", err)
	}
	byDev := map[string]*hotdesk.Login{}
	for _, l := range logins {
		byDev[l.Device] = l
	}
	d := devicesData{Q: q, Mode: mode, Total: total}
	c.seedPhones(r)
	loc := c.location(ctx)
	for _, dev := range devs {
		contacts := c.regs.Contacts(dev.ID)
		d.Rows = append(d.Rows, deviceRow{Device: dev, Registered: len(contacts) > 0, Login: byDev[dev.ID],
			Locked: desk.ActiveLock(dev.LockedUntil, c.now()), Phone: c.phone(dev.ID, contacts, nil, loc)})
	}
	d.pager = pageLinks(off, pageSize, total, func(off int) string {
		return "/devices?q=" + url.QueryEscape(q) + "&mode=" + url.QueryEscape(mode) + "&offset=" + strconv.Itoa(off)
	})
	c.render(w, r, http.StatusOK, "devices", d)
	return nil
}

type deviceFormData struct{ Form *form }

func (c *Console) deviceNewPage(w http.ResponseWriter, r *http.Request) error {
	f := newForm(url.Values{"mode": {hotdesk.ModeHotdesk}, "model": {hotdesk.ModelGeneric}, "al_mode": {alSite}})
	c.render(w, r, http.StatusOK, "devicenew", deviceFormData{Form: f})
	return nil
}

// createdData is the one page that shows a new device's SIP password.
type createdData struct {
	Device       *hotdesk.Device
	SIPPassword  string
	ProvisionURL string
}

func (c *Console) deviceCreate(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r.PostForm)
	in := deviceInput(f, true)
	d, err := saveForm(f, deviceField, func() (*hotdesk.Device, error) { return c.admin.CreateDevice(r.Context(), source(r), in) })
	if err != nil {
		return err
	}
	if !f.Valid() {
		c.render(w, r, http.StatusBadRequest, "devicenew", deviceFormData{Form: f})
		return nil
	}
	c.render(w, r, http.StatusOK, "created", createdData{Device: d, SIPPassword: d.SIPPassword, ProvisionURL: provisionURL(r, c.secure, d)})
	return nil
}

// provisionURL is where the phone fetches its configuration.
func provisionURL(r *http.Request, secure bool, d *hotdesk.Device) string {
	if d.MAC == "" {
		return ""
	}
	scheme := "http"
	if r.TLS != nil || secure {
		scheme = "https"
	}
	ext := "xml"
	if d.Model == hotdesk.ModelYealink {
		ext = "cfg"
	}
	return scheme + "://" + r.Host + "/provision/" + d.MAC + "." + ext
}

type deviceData struct {
	Device   *hotdesk.Device
	Form     *form
	DelForm  *form // the delete confirmation
	Contacts []hotdesk.Binding
	Login    *hotdesk.Login
	URL      string
	Locked   *time.Time // PIN logins from it refused until, nil unless locked now
	Phone    phoneInfo
}

func (d *deviceData) title() string { return "Device " + d.Device.ID }

func (c *Console) devicePage(w http.ResponseWriter, r *http.Request) error {
	d, err := c.deviceData(r, nil)
	return c.show(w, r, http.StatusOK, "device", d, err)
}

func (c *Console) deviceData(r *http.Request, f *form) (*deviceData, error) {
	dev, err := c.store.FindDevice(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if f == nil {
		l := dev.Location
		f = newForm(url.Values{"label": {dev.Label}, "mac": {dev.MAC}, "model": {dev.Model}, "mode": {dev.Mode},
			"owner": {dev.Owner}, "emergency_callback": {dev.EmergencyCallback}, "location": {l.Text},
			"sip_transport": {dev.SIPTransport}, "srtp": {dev.SRTP},
			"country": {l.Country}, "a1": {l.A1}, "a3": {l.A3}, "street": {l.Street}, "house_no": {l.HouseNo},
			"postcode": {l.Postcode}, "building": {l.Building}, "floor": {l.Floor}, "room": {l.Room}, "seat": {l.Seat}})
		setAutoLogoutForm(f, dev.AutoLogout)
	}
	d := &deviceData{Device: dev, Form: f, DelForm: newForm(nil), Contacts: c.regs.Contacts(dev.ID), URL: provisionURL(r, c.secure, dev),
		Locked: desk.ActiveLock(dev.LockedUntil, c.now())}
	c.seedPhones(r)
	blf := func(ext string) bool {
		u, err := c.store.FindUser(r.Context(), ext)
		return err == nil && len(u.BLF) > 0
	}
	d.Phone = c.phone(dev.ID, d.Contacts, blf, c.location(r.Context()))
	if d.Login, err = c.store.LoginByDevice(r.Context(), dev.ID); err != nil && hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		return nil, fmt.Errorf("find login: %w", err)
	}
	return d, nil
}

func (c *Console) deviceUpdate(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r.PostForm)
	id := r.PathValue("id")
	in := deviceInput(f, false)
	if _, err := saveForm(f, deviceField, func() (*hotdesk.Device, error) { return c.admin.UpdateDevice(r.Context(), source(r), id, in) }); err != nil {
		return err
	}
	if !f.Valid() {
		dd, err := c.deviceData(r, f)
		return c.show(w, r, http.StatusBadRequest, "device", dd, err)
	}
	return redirect(w, r, "/devices/"+url.PathEscape(id)+"?flash="+url.QueryEscape("Saved."))
}

func (c *Console) deviceDelete(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if r.PostForm.Get("sure") == "" {
		d, err := c.deviceData(r, nil)
		if err != nil {
			return err
		}
		d.DelForm.Fail("sure", "Tick the box to confirm the deletion.")
		c.render(w, r, http.StatusBadRequest, "device", d)
		return nil
	}
	if err := c.admin.DeleteDevice(r.Context(), source(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/devices?flash="+url.QueryEscape("Deleted device "+id+"."))
}

// deviceUnlock lifts the lock on PIN logins from a phone (audited with the
// admin as source) and returns to the desks list or the device page.
func (c *Console) deviceUnlock(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := c.desk.UnlockDevice(r.Context(), id, source(r)); err != nil {
		return err
	}
	if r.PostFormValue("back") == "desks" {
		return redirect(w, r, "/?flash="+url.QueryEscape(id+" unlocked."))
	}
	return redirect(w, r, "/devices/"+url.PathEscape(id)+"?flash="+url.QueryEscape("Unlocked."))
}
