package web

import (
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// The same rules as the console's forms (internal/console/validate.go), so
// a value one accepts the other accepts too.
var (
	reExtension = regexp.MustCompile(`^[0-9]{2,6}$`)
	reE164      = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`) // + and 8 to 15 digits
	reDeviceID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
	reMAC       = regexp.MustCompile(`^[0-9a-f]{12}$`)
	reDialable  = regexp.MustCompile(`^[0-9]{1,6}$`)
	reCode      = regexp.MustCompile(`^\*[0-9]{1,4}$`)
	reCountry   = regexp.MustCompile(`^[A-Z]{2}$`)
	reDigits    = regexp.MustCompile(`^[0-9]{1,4}$`)
	reSpeedDial = regexp.MustCompile(`^\+?[0-9*#]{1,32}$`)
)

func checkExtension(field, v string) error {
	if !reExtension.MatchString(v) {
		return hotdesk.Invalidf(field, "%s must be 2 to 6 digits.", field)
	}
	return nil
}

// checkE164 validates an optional E.164 number: + and 8 to 15 digits.
func checkE164(field, v string) error {
	if v != "" && !reE164.MatchString(v) {
		return hotdesk.Invalidf(field, "%s must be an E.164 number like +31201234567.", field)
	}
	return nil
}

func checkName(v string, required bool) error {
	switch {
	case strings.TrimSpace(v) == "" && required:
		return hotdesk.Invalidf("name", "name is required.")
	case len(v) > 100:
		return hotdesk.Invalidf("name", "name must be at most 100 characters.")
	}
	return nil
}

func checkEmail(v string) error {
	if v == "" {
		return nil
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || len(v) > 254 {
		return hotdesk.Invalidf("email", "email must be an address like name@example.com.")
	}
	return nil
}

func checkOutbound(v string) error {
	switch v {
	case hotdesk.OutboundInternal, hotdesk.OutboundNational, hotdesk.OutboundInternational:
		return nil
	}
	return hotdesk.Invalidf("outbound", "outbound must be internal, national or international.")
}

// checkDIDs validates direct numbers: E.164, no duplicates.
func checkDIDs(dids []string) error {
	if len(dids) > 100 {
		return hotdesk.Invalidf("dids", "dids may hold at most 100 numbers.")
	}
	seen := map[string]bool{}
	for _, d := range dids {
		if !reE164.MatchString(d) {
			return hotdesk.Invalidf("dids", "Direct number %q is not an E.164 number like +31201234567.", d)
		}
		if seen[d] {
			return hotdesk.Invalidf("dids", "Direct number %s is listed twice.", d)
		}
		seen[d] = true
	}
	return nil
}

func checkBLF(blf []string) error {
	if len(blf) > 100 {
		return hotdesk.Invalidf("blf", "blf may hold at most 100 extensions.")
	}
	for _, b := range blf {
		if !reExtension.MatchString(b) {
			return hotdesk.Invalidf("blf", "BLF key %q is not an extension (2 to 6 digits).", b)
		}
	}
	return nil
}

func checkRingTimeout(n int) error {
	if n != 0 && (n < 5 || n > 300) {
		return hotdesk.Invalidf("ring_timeout", "ring_timeout must be 5 to 300 seconds (0 for the default 30).")
	}
	return nil
}

func checkSpeedDials(sds []hotdesk.SpeedDial) error {
	if len(sds) > 100 {
		return hotdesk.Invalidf("speed_dials", "speed_dials may hold at most 100 entries.")
	}
	for _, sd := range sds {
		if len(sd.Label) > 50 {
			return hotdesk.Invalidf("speed_dials", "A speed dial label must be at most 50 characters.")
		}
		if !reSpeedDial.MatchString(sd.Number) {
			return hotdesk.Invalidf("speed_dials", "Speed dial number %q must be digits, * or # (an optional leading +).", sd.Number)
		}
	}
	return nil
}

// normalizeMAC accepts 12 hex digits with or without ':', '-' or '.'
// separators and returns them lower-case without separators.
func normalizeMAC(v string) (string, error) {
	m := strings.ToLower(strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.TrimSpace(v)))
	if m == "" {
		return "", nil
	}
	if !reMAC.MatchString(m) {
		return "", hotdesk.Invalidf("mac", "mac must be 12 hex digits, e.g. 00:04:13:aa:bb:cc.")
	}
	return m, nil
}

func checkModel(v string) error {
	switch v {
	case hotdesk.ModelSnom, hotdesk.ModelYealink, hotdesk.ModelGrandstream, hotdesk.ModelGeneric:
		return nil
	}
	return hotdesk.Invalidf("model", "model must be snom, yealink, grandstream or generic.")
}

func checkLocation(l hotdesk.Location) error {
	if l.Country != "" && !reCountry.MatchString(l.Country) {
		return hotdesk.Invalidf("location.country", "location.country must be a two-letter ISO code like NL.")
	}
	for _, f := range []struct{ name, v string }{{"text", l.Text}, {"a1", l.A1}, {"a3", l.A3}, {"street", l.Street},
		{"house_no", l.HouseNo}, {"postcode", l.Postcode}, {"building", l.Building}, {"floor", l.Floor},
		{"room", l.Room}, {"seat", l.Seat}} {
		if len(f.v) > 200 {
			return hotdesk.Invalidf("location."+f.name, "location.%s must be at most 200 characters.", f.name)
		}
	}
	return nil
}

// checkSIPPassword requires a password a phone can hold and an attacker
// cannot guess: 12 to 128 printable ASCII characters without spaces.
func checkSIPPassword(v string) error {
	if len(v) < 12 || len(v) > 128 {
		return hotdesk.Invalidf("sip_password", "sip_password must be 12 to 128 characters (leave it out to generate one).")
	}
	for _, c := range v {
		if c <= ' ' || c > '~' {
			return hotdesk.Invalidf("sip_password", "sip_password may hold printable ASCII characters only, no spaces.")
		}
	}
	return nil
}

// checkPolicy validates an auto-logout policy with desk's parser, naming
// the field under prefix (e.g. "auto_logout.daily_at").
func checkPolicy(prefix string, p hotdesk.AutoLogout) error {
	if err := desk.ValidatePolicy(p); err != nil {
		if f := hotdesk.ErrorField(err); f != "" {
			return hotdesk.Invalidf(prefix+"."+f, "%s", hotdesk.ErrorMessage(err))
		}
		return err
	}
	return nil
}

// checkSettings validates site settings, naming the JSON field at fault.
func checkSettings(s hotdesk.Settings) error {
	fc := s.FeatureCodes
	switch {
	case !reCode.MatchString(fc.Star35):
		return hotdesk.Invalidf("feature_codes.star35", "A feature code is * followed by 1 to 4 digits, like *35.")
	case !reCode.MatchString(fc.Star77):
		return hotdesk.Invalidf("feature_codes.star77", "A feature code is * followed by 1 to 4 digits, like *77.")
	case fc.Star35 == fc.Star77:
		return hotdesk.Invalidf("feature_codes.star77", "The two feature codes must differ.")
	case !reDigits.MatchString(fc.Logout77):
		return hotdesk.Invalidf("feature_codes.logout77", "The logout digit is 1 to 4 digits, like 5.")
	case len(s.Emergency) == 0:
		return hotdesk.Invalidf("emergency_numbers", "At least one emergency number is required (e.g. 112).")
	}
	for _, n := range s.Emergency {
		if !reDialable.MatchString(n) {
			return hotdesk.Invalidf("emergency_numbers", "Emergency number %q must be 1 to 6 digits.", n)
		}
	}
	if err := checkPolicy("auto_logout", s.AutoLogout); err != nil {
		return err
	}
	if s.Lang != "en" && s.Lang != "nl" {
		return hotdesk.Invalidf("lang", "lang must be en or nl.")
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" {
		return hotdesk.Invalidf("timezone", "timezone must be an IANA name like Europe/Amsterdam.")
	}
	for _, f := range []struct{ name, v string }{{"national_prefix", s.NationalPrefix},
		{"international_prefix", s.InternationalPrefix}, {"country_code", s.CountryCode}} {
		if !reDigits.MatchString(f.v) {
			return hotdesk.Invalidf(f.name, "%s must be 1 to 4 digits.", f.name)
		}
	}
	return checkTrunk(s.Trunk)
}

func checkTrunk(t hotdesk.Trunk) error {
	if t.Proxy != "" {
		if host, port, err := net.SplitHostPort(t.Proxy); err != nil || host == "" || port == "" {
			return hotdesk.Invalidf("trunk.proxy", "trunk.proxy must be host:port, like sip.provider.example:5060.")
		}
	} else if t.Enabled {
		return hotdesk.Invalidf("trunk.proxy", "An enabled trunk needs a proxy (host:port).")
	}
	for _, s := range t.Sources {
		if net.ParseIP(s) == nil {
			if _, _, err := net.ParseCIDR(s); err != nil {
				return hotdesk.Invalidf("trunk.sources", "Source %q is not an IP address or CIDR range.", s)
			}
		}
	}
	if t.Register && t.Username == "" {
		return hotdesk.Invalidf("trunk.username", "Registering to the provider needs a username.")
	}
	return nil
}

// checkWebhookURL requires https, or http to a loopback host (local
// receivers and tests).
func checkWebhookURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || len(v) > 2000 {
		return hotdesk.Invalidf("url", "url must be an absolute https:// URL.")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return hotdesk.Invalidf("url", "url must use https:// (http:// only to localhost).")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// auditKinds are the kinds the audit trail holds (filters, webhooks).
var auditKinds = []string{
	hotdesk.KindLogin, hotdesk.KindLogout, hotdesk.KindLoginFailed, hotdesk.KindLocked, hotdesk.KindUnlocked,
	hotdesk.KindAuthFailed, hotdesk.KindAuthBlocked, hotdesk.KindRegistered, hotdesk.KindUnregistered,
	hotdesk.KindEmergency, hotdesk.KindUserChanged, hotdesk.KindDeviceChanged, hotdesk.KindSettings,
	hotdesk.KindAdminSignIn, hotdesk.KindProvisionFetch,
}

// checkKinds validates a list of kinds against known.
func checkKinds(field string, kinds, known []string) error {
	for _, k := range kinds {
		ok := false
		for _, kk := range known {
			ok = ok || k == kk
		}
		if !ok {
			return hotdesk.Invalidf(field, "Unknown kind %q; known kinds: %s.", k, strings.Join(known, ", "))
		}
	}
	return nil
}

// splitList splits values that may repeat and hold commas, dropping blanks.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				out = append(out, k)
			}
		}
	}
	return out
}
