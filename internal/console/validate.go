package console

import (
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// The same rules as the REST API (SPEC section 3), so a value the console
// accepts is one the API accepts and the other way round.
var (
	reExtension = regexp.MustCompile(`^[0-9]{2,6}$`)
	reE164      = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	reDeviceID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
	reMAC       = regexp.MustCompile(`^[0-9a-f]{12}$`)
	reDialable  = regexp.MustCompile(`^[0-9]{1,6}$`)
	reCode      = regexp.MustCompile(`^\*[0-9]{1,4}$`)
	reCountry   = regexp.MustCompile(`^[A-Z]{2}$`)
	reDigits    = regexp.MustCompile(`^[0-9]{1,4}$`)
)

// checkExtension validates an extension field.
func checkExtension(field, v string) error {
	if !reExtension.MatchString(v) {
		return hotdesk.Invalidf(field, "Extension must be 2 to 6 digits.")
	}
	return nil
}

// checkE164 validates an optional E.164 number.
func checkE164(field, v string) error {
	if v != "" && !reE164.MatchString(v) {
		return hotdesk.Invalidf(field, "Must be an E.164 number like +31201234567.")
	}
	return nil
}

// normalizeMAC accepts 12 hex digits with or without ':', '-' or '.'
// separators and returns them lower-case without separators.
func normalizeMAC(v string) (string, error) {
	m := strings.ToLower(strings.NewReplacer(":", "", "-", "", ".", "", " ", "").Replace(v))
	if m == "" {
		return "", nil
	}
	if !reMAC.MatchString(m) {
		return "", hotdesk.Invalidf("mac", "MAC must be 12 hex digits, e.g. 00:04:13:aa:bb:cc.")
	}
	return m, nil
}

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
		check(f, checkExtension("extension", u.Extension))
	}
	if u.Name == "" {
		f.Fail("name", "Name is required.")
	} else if len(u.Name) > 100 {
		f.Fail("name", "Name must be at most 100 characters.")
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			f.Fail("email", "Email must be an address like name@example.com.")
		}
	}
	check(f, checkE164("caller_id", u.CallerID))
	for _, d := range u.DIDs {
		if err := checkE164("dids", d); err != nil {
			f.Fail("dids", "Direct number "+d+" is not an E.164 number like +31201234567.")
		}
	}
	switch u.Outbound {
	case hotdesk.OutboundInternal, hotdesk.OutboundNational, hotdesk.OutboundInternational:
	default:
		f.Fail("outbound", "Outbound must be internal, national or international.")
	}
	for _, b := range u.BLF {
		if !reExtension.MatchString(b) {
			f.Fail("blf", "BLF key "+b+" is not an extension (2 to 6 digits).")
		}
	}
	if v := strings.TrimSpace(f.Get("ring_timeout")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 300 {
			f.Fail("ring_timeout", "Ring timeout must be 5 to 300 seconds (empty for the default 30).")
		}
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
	if create && d.ID != "" && !reDeviceID.MatchString(d.ID) {
		f.Fail("id", "ID may hold letters, digits, '.', '_' and '-' (at most 32), or stay empty for the next HD number.")
	}
	if len(d.Label) > 100 {
		f.Fail("label", "Label must be at most 100 characters.")
	}
	mac, err := normalizeMAC(f.Get("mac"))
	check(f, err)
	d.MAC = mac
	switch d.Model {
	case hotdesk.ModelSnom, hotdesk.ModelYealink, hotdesk.ModelGrandstream, hotdesk.ModelGeneric:
	default:
		f.Fail("model", "Model must be snom, yealink, grandstream or generic.")
	}
	switch d.Mode {
	case hotdesk.ModeHotdesk:
		d.Owner = ""
	case hotdesk.ModePersonal:
		if d.Owner == "" {
			f.Fail("owner", "A personal phone needs an owner extension.")
		} else {
			check(f, checkExtension("owner", d.Owner))
		}
	default:
		f.Fail("mode", "Mode must be hotdesk or personal.")
	}
	if d.Mode == hotdesk.ModePersonal && d.ID == "" && create {
		f.Fail("id", "A personal phone needs an ID (its SIP username).")
	}
	if d.Location.Country != "" && !reCountry.MatchString(d.Location.Country) {
		f.Fail("country", "Country must be a two-letter ISO code like NL.")
	}
	check(f, checkE164("emergency_callback", d.EmergencyCallback))
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
	checkPolicy(f, "al_", *p)
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

// checkPolicy validates each auto-logout field on its own, so every bad
// field gets its message; prefix maps the policy's field names to the
// form's.
func checkPolicy(f *form, prefix string, p hotdesk.AutoLogout) {
	for _, one := range []hotdesk.AutoLogout{{DailyAt: p.DailyAt}, {MaxDuration: p.MaxDuration},
		{IdleTimeout: p.IdleTimeout}, {LostRegistration: p.LostRegistration}} {
		err := desk.ValidatePolicy(one)
		if err == nil {
			continue
		}
		name := hotdesk.ErrorField(err)
		msg := hotdesk.ErrorMessage(err)
		if name != "daily_at" {
			msg = "Must be a duration of at least 1m, like 12h or 90m (empty = off)."
		}
		f.Fail(prefix+name, msg)
	}
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
	for _, n := range []string{"star35", "star77"} {
		if !reCode.MatchString(strings.TrimSpace(f.Get(n))) {
			f.Fail(n, "A feature code is * followed by 1 to 4 digits, like *35.")
		}
	}
	if s.FeatureCodes.Star35 == s.FeatureCodes.Star77 && s.FeatureCodes.Star35 != "" {
		f.Fail("star77", "The two feature codes must differ.")
	}
	if !reDigits.MatchString(s.FeatureCodes.Logout77) {
		f.Fail("logout77", "The logout digit is 1 to 4 digits, like 5.")
	}
	s.Emergency = splitList(f.Get("emergency"))
	if len(s.Emergency) == 0 {
		f.Fail("emergency", "At least one emergency number is required (e.g. 112).")
	}
	for _, n := range s.Emergency {
		if !reDialable.MatchString(n) {
			f.Fail("emergency", "Emergency number "+n+" must be 1 to 6 digits.")
		}
	}
	s.AutoLogout = hotdesk.AutoLogout{DailyAt: strings.TrimSpace(f.Get("daily_at")), MaxDuration: strings.TrimSpace(f.Get("max_duration")),
		IdleTimeout: strings.TrimSpace(f.Get("idle_timeout")), LostRegistration: strings.TrimSpace(f.Get("lost_registration"))}
	checkPolicy(f, "", s.AutoLogout)
	s.Lang = f.Get("lang")
	if s.Lang != "en" && s.Lang != "nl" {
		f.Fail("lang", "Language must be en or nl.")
	}
	s.Timezone = strings.TrimSpace(f.Get("timezone"))
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" {
		f.Fail("timezone", "Time zone must be an IANA name like Europe/Amsterdam.")
	}
	s.NationalPrefix, s.InternationalPrefix, s.CountryCode = strings.TrimSpace(f.Get("national_prefix")), strings.TrimSpace(f.Get("international_prefix")), strings.TrimSpace(f.Get("country_code"))
	for _, n := range []string{"national_prefix", "international_prefix", "country_code"} {
		if !reDigits.MatchString(strings.TrimSpace(f.Get(n))) {
			f.Fail(n, "Must be 1 to 4 digits.")
		}
	}
	s.Trunk = trunkFromForm(f, cur.Trunk)
	return s
}

func trunkFromForm(f *form, cur hotdesk.Trunk) hotdesk.Trunk {
	t := hotdesk.Trunk{Enabled: f.Checked("trunk_enabled"), Proxy: strings.TrimSpace(f.Get("trunk_proxy")),
		Register: f.Checked("trunk_register"), Username: strings.TrimSpace(f.Get("trunk_username")),
		Password: f.Get("trunk_password"), Realm: strings.TrimSpace(f.Get("trunk_realm")),
		Domain: strings.TrimSpace(f.Get("trunk_domain")), Sources: splitList(f.Get("trunk_sources"))}
	if t.Password == "" {
		t.Password = cur.Password
	}
	if t.Proxy != "" {
		if _, port, err := net.SplitHostPort(t.Proxy); err != nil || port == "" {
			f.Fail("trunk_proxy", "Proxy must be host:port, like sip.provider.example:5060.")
		}
	} else if t.Enabled {
		f.Fail("trunk_proxy", "An enabled trunk needs a proxy (host:port).")
	}
	for _, s := range t.Sources {
		if net.ParseIP(s) == nil {
			if _, _, err := net.ParseCIDR(s); err != nil {
				f.Fail("trunk_sources", "Source "+s+" is not an IP address or CIDR range.")
			}
		}
	}
	if t.Register && t.Username == "" {
		f.Fail("trunk_username", "Registering to the provider needs a username.")
	}
	return t
}
