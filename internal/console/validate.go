package console

import (
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// The rules are internal/admin's, shared with the REST API, so a value the
// console accepts is one the API accepts and the other way round. This
// file only reads the forms into the service's input; ApplyAll puts the
// errors it returns (named by JSON field) on the form fields.

// splitList splits a comma, space or newline separated list.
func splitList(v string) []string {
	return trimAll(strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' }))
}

// userInput reads a user form (every field; the extension on create).
func userInput(f *form, create bool) admin.UserInput {
	str := func(name string) *string { v := f.Get(name); return &v }
	flag := func(name string) *bool { v := f.Checked(name); return &v }
	list := func(name string) *[]string { v := splitList(f.Get(name)); return &v }
	in := admin.UserInput{Name: str("name"), Email: str("email"), Hotdesk: flag("hotdesk"), CallerID: str("caller_id"),
		DIDs: list("dids"), Outbound: str("outbound"), BLF: list("blf"), Voicemail: flag("voicemail")}
	if create {
		in.Extension = str("extension")
		if f.Get("pin") != "" { // the PIN is optional on the form
			in.PIN = str("pin")
		}
	}
	n := 0
	if v := strings.TrimSpace(f.Get("ring_timeout")); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			f.Fail("ring_timeout", "Ring timeout must be a whole number of seconds.")
		}
	}
	in.RingTimeout = &n
	return in
}

// deviceInput reads a device form (every field; the id on create).
func deviceInput(f *form, create bool) admin.DeviceInput {
	str := func(name string) *string { v := f.Get(name); return &v }
	in := admin.DeviceInput{Label: str("label"), MAC: str("mac"), Model: str("model"), Mode: str("mode"),
		Owner: str("owner"), EmergencyCallback: str("emergency_callback"), SIPTransport: str("sip_transport"), SRTP: str("srtp"),
		Location: &hotdesk.Location{Text: f.Get("location"), Country: f.Get("country"), A1: f.Get("a1"), A3: f.Get("a3"),
			Street: f.Get("street"), HouseNo: f.Get("house_no"), Postcode: f.Get("postcode"), Building: f.Get("building"),
			Floor: f.Get("floor"), Room: f.Get("room"), Seat: f.Get("seat")}}
	if create {
		in.ID = str("id")
	}
	al := autoLogoutFromForm(f)
	in.AutoLogout = &al
	return in
}

// deviceField names the device form field of a JSON field.
func deviceField(name string) string {
	switch {
	case name == "location.text":
		return "location"
	case strings.HasPrefix(name, "location."):
		return strings.TrimPrefix(name, "location.")
	case strings.HasPrefix(name, "auto_logout."):
		return "al_" + strings.TrimPrefix(name, "auto_logout.")
	}
	return name
}

// settingsField names the settings form field of a JSON field.
func settingsField(name string) string {
	if name == "emergency_numbers" {
		return "emergency"
	}
	if rest, ok := strings.CutPrefix(name, "trunk."); ok {
		return "trunk_" + rest
	}
	if rest, ok := strings.CutPrefix(name, "mail."); ok {
		return "mail_" + rest
	}
	if _, rest, ok := strings.Cut(name, "."); ok {
		return rest // feature_codes., auto_logout., prompts., limits.
	}
	return name
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
	return &hotdesk.AutoLogout{DailyAt: strings.TrimSpace(f.Get("al_daily_at")), MaxDuration: strings.TrimSpace(f.Get("al_max_duration")),
		IdleTimeout: strings.TrimSpace(f.Get("al_idle_timeout")), LostRegistration: strings.TrimSpace(f.Get("al_lost_registration"))}
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

// settingsFromForm reads the settings form on top of the current
// settings (the trunk password is kept when left empty).
func settingsFromForm(f *form, cur hotdesk.Settings) hotdesk.Settings {
	s := cur
	s.FeatureCodes = hotdesk.FeatureCodes{
		Star35Enabled: f.Checked("star35_enabled"), Star35: strings.TrimSpace(f.Get("star35")),
		Star77Enabled: f.Checked("star77_enabled"), Star77: strings.TrimSpace(f.Get("star77")),
		Logout77: strings.TrimSpace(f.Get("logout77")),
	}
	s.Emergency = splitList(f.Get("emergency"))
	s.AutoLogout = hotdesk.AutoLogout{DailyAt: strings.TrimSpace(f.Get("daily_at")), MaxDuration: strings.TrimSpace(f.Get("max_duration")),
		IdleTimeout: strings.TrimSpace(f.Get("idle_timeout")), LostRegistration: strings.TrimSpace(f.Get("lost_registration"))}
	s.Lang = f.Get("lang")
	s.Timezone = strings.TrimSpace(f.Get("timezone"))
	s.NationalPrefix, s.InternationalPrefix, s.CountryCode = strings.TrimSpace(f.Get("national_prefix")), strings.TrimSpace(f.Get("international_prefix")), strings.TrimSpace(f.Get("country_code"))
	s.Trunk = trunkFromForm(f, cur.Trunk)
	s.Prompts = promptsFromForm(f, cur.Prompts)
	s.Limits = limitsFromForm(f, cur.Limits)
	s.Mail = mailFromForm(f, cur.Mail)
	s.TLS = tlsFromForm(f, cur.TLS)
	s.EmergencyAlerts = emergencyFromForm(f, cur.EmergencyAlerts)
	return s
}

// tlsFromForm reads the TLS settings; a field left out keeps its value.
func tlsFromForm(f *form, cur hotdesk.TLSSettings) hotdesk.TLSSettings {
	keep := func(name string, v *string) {
		if _, ok := f.Values[name]; ok {
			*v = strings.TrimSpace(f.Get(name))
		}
	}
	keep("phone_transport", &cur.PhoneTransport)
	keep("trunk_ca", &cur.TrunkCA)
	keep("trunk_fingerprint", &cur.TrunkFingerprint)
	return cur
}

// promptsFromForm reads the digit timeouts; an empty field keeps the
// current value and one that is not a number is out of range.
func promptsFromForm(f *form, cur hotdesk.PromptSettings) hotdesk.PromptSettings {
	return hotdesk.PromptSettings{FirstDigitSeconds: f.Int("first_digit_seconds", cur.FirstDigitSeconds),
		InterDigitSeconds: f.Int("inter_digit_seconds", cur.InterDigitSeconds)}
}

// limitsFromForm reads the per-phone limits; a field left out keeps its
// current value, one that is not a number is out of range, which
// validate.Limits names.
func limitsFromForm(f *form, cur hotdesk.LimitSettings) hotdesk.LimitSettings {
	return hotdesk.LimitSettings{CallsPerDevice: f.Int("calls_per_device", cur.CallsPerDevice),
		SubscriptionsPerDevice:    f.Int("subscriptions_per_device", cur.SubscriptionsPerDevice),
		SubscriptionsPerExtension: f.Int("subscriptions_per_extension", cur.SubscriptionsPerExtension)}
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
	return t
}
