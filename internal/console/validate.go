package console

import (
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// The field rules are internal/validate's, shared with the REST API, so a
// value the console accepts is one the API accepts and the other way round.
// This file reads the forms and records every bad field on them.

// splitList splits a comma, space or newline separated list.
func splitList(v string) []string {
	return trimAll(strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' }))
}

// userFromForm checks a user form and returns the user it describes.
// Errors are recorded on f; the PIN is handled separately.
func userFromForm(f *form, create bool) *hotdesk.User {
	u := &hotdesk.User{
		Extension: strings.TrimSpace(f.Get("extension")),
		Name:      strings.TrimSpace(f.Get("name")),
		Email:     strings.TrimSpace(f.Get("email")),
		Hotdesk:   f.Checked("hotdesk"),
		CallerID:  strings.TrimSpace(f.Get("caller_id")),
		DIDs:      splitList(f.Get("dids")),
		Outbound:  f.Get("outbound"),
		BLF:       splitList(f.Get("blf")),
		Voicemail: f.Checked("voicemail"),
	}
	if create {
		check(f, validate.Extension("extension", u.Extension))
	}
	check(f, validate.Name("name", u.Name, true))
	check(f, validate.Email("email", u.Email))
	check(f, validate.E164("caller_id", u.CallerID))
	check(f, validate.DIDs("dids", u.DIDs))
	check(f, validate.Outbound("outbound", u.Outbound))
	check(f, validate.BLF("blf", u.BLF))
	if v := strings.TrimSpace(f.Get("ring_timeout")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.Fail("ring_timeout", "Ring timeout must be a whole number of seconds.")
		}
		check(f, validate.RingTimeout("ring_timeout", n))
		u.RingTimeout = n
	}
	return u
}

// checkPIN validates an optional PIN field.
func checkPIN(f *form, name string) {
	if pin := f.Get(name); pin != "" {
		if err := desk.ValidatePIN(pin); err != nil {
			f.Fail(name, hotdesk.ErrorMessage(err))
		}
	}
}

// check records err (if any) on the form.
func check(f *form, err error) {
	if err != nil {
		f.Apply(err, "")
	}
}

// checkAll records each error on the form.
func checkAll(f *form, errs []error) {
	for _, err := range errs {
		check(f, err)
	}
}

// deviceFromForm checks a device form and returns the device it describes.
func deviceFromForm(f *form, create bool) *hotdesk.Device {
	d := &hotdesk.Device{
		ID:                strings.TrimSpace(f.Get("id")),
		Label:             strings.TrimSpace(f.Get("label")),
		Model:             f.Get("model"),
		Mode:              f.Get("mode"),
		Owner:             strings.TrimSpace(f.Get("owner")),
		EmergencyCallback: strings.TrimSpace(f.Get("emergency_callback")),
		Location: hotdesk.Location{
			Text: strings.TrimSpace(f.Get("location")), Country: strings.ToUpper(strings.TrimSpace(f.Get("country"))),
			A1: strings.TrimSpace(f.Get("a1")), A3: strings.TrimSpace(f.Get("a3")),
			Street: strings.TrimSpace(f.Get("street")), HouseNo: strings.TrimSpace(f.Get("house_no")),
			Postcode: strings.TrimSpace(f.Get("postcode")), Building: strings.TrimSpace(f.Get("building")),
			Floor: strings.TrimSpace(f.Get("floor")), Room: strings.TrimSpace(f.Get("room")), Seat: strings.TrimSpace(f.Get("seat")),
		},
	}
	if create {
		check(f, validate.DeviceID("id", d.ID))
	}
	check(f, validate.MaxLen("label", d.Label, 100))
	mac, err := validate.MAC("mac", f.Get("mac"))
	check(f, err)
	d.MAC = mac
	check(f, validate.Model("model", d.Model))
	check(f, validate.Mode("mode", d.Mode))
	check(f, validate.Owner("owner", d.Mode, d.Owner))
	if d.Mode != hotdesk.ModePersonal {
		d.Owner = ""
	}
	if d.Mode == hotdesk.ModePersonal && d.ID == "" && create {
		f.Fail("id", "A personal phone needs an ID (its SIP username).")
	}
	check(f, validate.Country("country", d.Location.Country))
	l := d.Location
	for _, lf := range []struct{ name, v string }{{"location", l.Text}, {"a1", l.A1}, {"a3", l.A3}, {"street", l.Street},
		{"house_no", l.HouseNo}, {"postcode", l.Postcode}, {"building", l.Building}, {"floor", l.Floor},
		{"room", l.Room}, {"seat", l.Seat}} {
		check(f, validate.MaxLen(lf.name, lf.v, 200))
	}
	check(f, validate.E164("emergency_callback", d.EmergencyCallback))
	d.AutoLogout = autoLogoutFromForm(f)
	return d
}

// Device auto-logout modes on the device form.
const (
	alSite = "site" // follow the site policy (Settings)
	alOwn  = "own"  // this desk's own policy; all fields empty = never
)

// autoLogoutFromForm reads a device's auto-logout override: nil means the
// site policy applies. The desk Service uses an override instead of the
// site policy as a whole, so an override with every field empty means this
// desk never logs out by itself.
func autoLogoutFromForm(f *form) *hotdesk.AutoLogout {
	switch f.Get("al_mode") {
	case "", alSite:
		return nil
	case alOwn:
	default:
		f.Fail("al_mode", "Auto-logout must follow the site policy or be this desk's own.")
		return nil
	}
	p := &hotdesk.AutoLogout{DailyAt: strings.TrimSpace(f.Get("al_daily_at")), MaxDuration: strings.TrimSpace(f.Get("al_max_duration")),
		IdleTimeout: strings.TrimSpace(f.Get("al_idle_timeout")), LostRegistration: strings.TrimSpace(f.Get("al_lost_registration"))}
	checkAll(f, validate.AutoLogout("al_", *p))
	return p
}

// setAutoLogoutForm seeds the device form from a stored override.
func setAutoLogoutForm(f *form, p *hotdesk.AutoLogout) {
	if p == nil {
		f.Values.Set("al_mode", alSite)
		return
	}
	f.Values.Set("al_mode", alOwn)
	f.Values.Set("al_daily_at", p.DailyAt)
	f.Values.Set("al_max_duration", p.MaxDuration)
	f.Values.Set("al_idle_timeout", p.IdleTimeout)
	f.Values.Set("al_lost_registration", p.LostRegistration)
}

// settingsFromForm checks the settings form on top of the current
// settings (the trunk password is kept when left empty).
func settingsFromForm(f *form, cur hotdesk.Settings) hotdesk.Settings {
	s := cur
	s.FeatureCodes = hotdesk.FeatureCodes{
		Star35Enabled: f.Checked("star35_enabled"), Star35: strings.TrimSpace(f.Get("star35")),
		Star77Enabled: f.Checked("star77_enabled"), Star77: strings.TrimSpace(f.Get("star77")),
		Logout77: strings.TrimSpace(f.Get("logout77")),
	}
	checkAll(f, validate.FeatureCodes("", s.FeatureCodes))
	s.Emergency = splitList(f.Get("emergency"))
	check(f, validate.Emergency("emergency", s.Emergency))
	s.AutoLogout = hotdesk.AutoLogout{DailyAt: strings.TrimSpace(f.Get("daily_at")), MaxDuration: strings.TrimSpace(f.Get("max_duration")),
		IdleTimeout: strings.TrimSpace(f.Get("idle_timeout")), LostRegistration: strings.TrimSpace(f.Get("lost_registration"))}
	checkAll(f, validate.AutoLogout("", s.AutoLogout))
	s.Lang = f.Get("lang")
	check(f, validate.Lang("lang", s.Lang))
	s.Timezone = strings.TrimSpace(f.Get("timezone"))
	check(f, validate.Timezone("timezone", s.Timezone))
	s.NationalPrefix, s.InternationalPrefix, s.CountryCode = strings.TrimSpace(f.Get("national_prefix")), strings.TrimSpace(f.Get("international_prefix")), strings.TrimSpace(f.Get("country_code"))
	check(f, validate.Digits("national_prefix", s.NationalPrefix))
	check(f, validate.Digits("international_prefix", s.InternationalPrefix))
	check(f, validate.Digits("country_code", s.CountryCode))
	s.Trunk = trunkFromForm(f, cur.Trunk)
	s.Prompts = promptsFromForm(f, cur.Prompts)
	s.Limits = limitsFromForm(f, cur.Limits)
	return s
}

// promptsFromForm reads the digit timeouts; an empty field keeps the
// current value and one that is not a number is out of range.
func promptsFromForm(f *form, cur hotdesk.PromptSettings) hotdesk.PromptSettings {
	secs := func(name string, cur int) int {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			return cur
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return -1
		}
		return n
	}
	p := hotdesk.PromptSettings{FirstDigitSeconds: secs("first_digit_seconds", cur.FirstDigitSeconds),
		InterDigitSeconds: secs("inter_digit_seconds", cur.InterDigitSeconds)}
	checkAll(f, validate.Prompts("", p))
	return p
}

// limitsFromForm reads the per-phone limits; a field left out keeps its
// current value, one that is not a number reads as 0, which validate.Limits
// names.
func limitsFromForm(f *form, cur hotdesk.LimitSettings) hotdesk.LimitSettings {
	num := func(name string, v int) int {
		s := strings.TrimSpace(f.Get(name))
		if s == "" {
			return v
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	l := hotdesk.LimitSettings{CallsPerDevice: num("calls_per_device", cur.CallsPerDevice),
		SubscriptionsPerDevice:    num("subscriptions_per_device", cur.SubscriptionsPerDevice),
		SubscriptionsPerExtension: num("subscriptions_per_extension", cur.SubscriptionsPerExtension)}
	checkAll(f, validate.Limits("", l))
	return l
}

func trunkFromForm(f *form, cur hotdesk.Trunk) hotdesk.Trunk {
	t := hotdesk.Trunk{Enabled: f.Checked("trunk_enabled"), Proxy: strings.TrimSpace(f.Get("trunk_proxy")),
		Register: f.Checked("trunk_register"), Username: strings.TrimSpace(f.Get("trunk_username")),
		Password: f.Get("trunk_password"), Realm: strings.TrimSpace(f.Get("trunk_realm")),
		Domain: strings.TrimSpace(f.Get("trunk_domain")), Sources: splitList(f.Get("trunk_sources")),
		Transport: strings.TrimSpace(f.Get("trunk_transport"))}
	if t.Password == "" {
		t.Password = cur.Password
	}
	checkAll(f, validate.Trunk("trunk_", t))
	return t
}
