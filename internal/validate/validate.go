// Package validate holds the input rules that the REST API (internal/web)
// and the console (internal/console) share, so an admin gets the same
// answer for the same value wherever they type it.
//
// Every rule takes the name of the field at fault as its caller spells it
// (the API names JSON fields like "location.country", the console names
// form fields like "country") and returns nil or an EINVALID
// *hotdesk.Error naming that field. The message names the field in words
// (see label), so it reads well both in a JSON error and next to a form
// field. Rules return error rather than *hotdesk.Error so that a nil result
// stays nil when stored in an error variable.
//
// Rules over a struct (FeatureCodes, AutoLogout, Trunk) take a prefix for
// the field names ("trunk." in the API, "trunk_" in the console) and
// return every bad field, so a form can show each; the API reports the
// first. PINs are checked by desk.ValidatePIN, and auto-logout durations
// by desk.ValidatePolicy: this package calls it rather than parse again.
package validate

import (
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Timezone must answer the same on hosts without tzdata

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// Limits on lists, so one request cannot store unbounded data.
const (
	MaxDIDs = 100 // direct numbers per user
	MaxBLF  = 100 // BLF keys per user
)

var (
	reExtension = regexp.MustCompile(`^[0-9]{2,6}$`)
	// E.164 allows at most 15 digits; a country code plus a subscriber
	// number is never shorter than 8, so "+12" is a typo, not a number.
	reE164     = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	reDeviceID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)
	reMAC      = regexp.MustCompile(`^[0-9a-f]{12}$`)
	reDialable = regexp.MustCompile(`^[0-9]{1,6}$`)
	reCode     = regexp.MustCompile(`^\*[0-9]{1,4}$`)
	reCountry  = regexp.MustCompile(`^[A-Z]{2}$`)
	reDigits   = regexp.MustCompile(`^[0-9]{1,4}$`)
)

// words spells field-name words that are not plain English.
var words = map[string]string{
	"id": "ID", "mac": "MAC", "blf": "BLF", "dids": "direct numbers", "sip": "SIP",
	"lang": "language", "timezone": "time zone", "url": "URL",
}

// label turns a field name into words for a message: "trunk.proxy" and
// "trunk_proxy" become "Trunk proxy", "caller_id" "Caller ID".
func label(field string) string {
	parts := strings.FieldsFunc(field, func(r rune) bool { return r == '.' || r == '_' })
	for i, p := range parts {
		if w, ok := words[p]; ok {
			parts[i] = w
		}
	}
	s := strings.Join(parts, " ")
	if s == "" {
		return "Value"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// invalid returns an EINVALID error for field whose message starts with
// the field's label.
func invalid(field, format string, args ...any) error {
	return hotdesk.Invalidf(field, "%s %s", label(field), fmt.Sprintf(format, args...))
}

// Extension requires 2 to 6 digits.
func Extension(field, v string) error {
	if !reExtension.MatchString(v) {
		return invalid(field, "must be 2 to 6 digits.")
	}
	return nil
}

// E164 accepts "" (not set) or an E.164 number: + and 8 to 15 digits, the
// first not 0.
func E164(field, v string) error {
	if v != "" && !reE164.MatchString(v) {
		return invalid(field, "must be an E.164 number like +31201234567 (+ and 8 to 15 digits).")
	}
	return nil
}

// DIDs requires at most MaxDIDs E.164 numbers, none listed twice.
func DIDs(field string, dids []string) error {
	if len(dids) > MaxDIDs {
		return invalid(field, "may hold at most %d numbers.", MaxDIDs)
	}
	seen := make(map[string]bool, len(dids))
	for _, d := range dids {
		if !reE164.MatchString(d) {
			return hotdesk.Invalidf(field, "Direct number %s is not an E.164 number like +31201234567 (+ and 8 to 15 digits).", d)
		}
		if seen[d] {
			return hotdesk.Invalidf(field, "Direct number %s is listed twice.", d)
		}
		seen[d] = true
	}
	return nil
}

// Outbound requires one of the outbound permission levels.
func Outbound(field, v string) error {
	switch v {
	case hotdesk.OutboundInternal, hotdesk.OutboundNational, hotdesk.OutboundInternational:
		return nil
	}
	return invalid(field, "must be internal, national or international.")
}

// BLF requires at most MaxBLF extensions.
func BLF(field string, keys []string) error {
	if len(keys) > MaxBLF {
		return invalid(field, "may hold at most %d extensions.", MaxBLF)
	}
	for _, k := range keys {
		if !reExtension.MatchString(k) {
			return hotdesk.Invalidf(field, "BLF key %s is not an extension (2 to 6 digits).", k)
		}
	}
	return nil
}

// Email accepts "" (not set) or a bare address of at most 254 characters.
func Email(field, v string) error {
	if v == "" {
		return nil
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || len(v) > 254 {
		return invalid(field, "must be an address like name@example.com.")
	}
	return nil
}

// Name requires a name of at most 100 characters; blank is allowed only
// when not required.
func Name(field, v string, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return invalid(field, "is required.")
	}
	return MaxLen(field, v, 100)
}

// MaxLen requires v to be at most n bytes long.
func MaxLen(field, v string, n int) error {
	if len(v) > n {
		return invalid(field, "must be at most %d characters.", n)
	}
	return nil
}

// RingTimeout requires 5 to 300 seconds, or 0 for the default.
func RingTimeout(field string, n int) error {
	if n != 0 && (n < 5 || n > 300) {
		return invalid(field, "must be 5 to 300 seconds (0 or empty for the default 30).")
	}
	return nil
}

// MAC accepts "" (not set) or 12 hex digits, with or without ':', '-' or
// '.' separators and surrounding space, and returns it as 12 lower-case hex
// digits.
func MAC(field, v string) (string, error) {
	m := strings.ToLower(strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.TrimSpace(v)))
	if m == "" {
		return "", nil
	}
	if !reMAC.MatchString(m) {
		return "", invalid(field, "must be 12 hex digits, e.g. 00:04:13:aa:bb:cc.")
	}
	return m, nil
}

// DeviceID accepts "" (the next HD number is chosen) or up to 32 letters,
// digits, '.', '_' and '-', starting with a letter or digit.
func DeviceID(field, v string) error {
	if v != "" && !reDeviceID.MatchString(v) {
		return invalid(field, "may hold letters, digits, '.', '_' and '-' (at most 32), or stay empty for the next HD number.")
	}
	return nil
}

// Model requires a provisioning model.
func Model(field, v string) error {
	switch v {
	case hotdesk.ModelSnom, hotdesk.ModelYealink, hotdesk.ModelGrandstream, hotdesk.ModelGeneric:
		return nil
	}
	return invalid(field, "must be snom, yealink, grandstream or generic.")
}

// Mode requires hotdesk or personal.
func Mode(field, v string) error {
	if v != hotdesk.ModeHotdesk && v != hotdesk.ModePersonal {
		return invalid(field, "must be hotdesk or personal.")
	}
	return nil
}

// Owner checks a device's owner against its mode: a personal phone needs
// an owner extension; a hot desk phone's owner is ignored. Whether the
// user exists is the caller's to check.
func Owner(field, mode, owner string) error {
	if mode != hotdesk.ModePersonal {
		return nil
	}
	if owner == "" {
		return hotdesk.Invalidf(field, "A personal phone needs an owner extension.")
	}
	return Extension(field, owner)
}

// Country accepts "" or a two-letter upper-case ISO 3166 code.
func Country(field, v string) error {
	if v != "" && !reCountry.MatchString(v) {
		return invalid(field, "must be a two-letter ISO code like NL.")
	}
	return nil
}

// Digits requires 1 to 4 digits (dialling prefixes, country code).
func Digits(field, v string) error {
	if !reDigits.MatchString(v) {
		return invalid(field, "must be 1 to 4 digits.")
	}
	return nil
}

// FeatureCodes checks the hot-desk feature codes, naming fields
// prefix+"star35", prefix+"star77" and prefix+"logout77".
func FeatureCodes(prefix string, fc hotdesk.FeatureCodes) []error {
	var errs []error
	for _, c := range []struct{ name, v string }{{"star35", fc.Star35}, {"star77", fc.Star77}} {
		if !reCode.MatchString(c.v) {
			errs = append(errs, hotdesk.Invalidf(prefix+c.name, "A feature code is * followed by 1 to 4 digits, like *%s.", c.name[4:]))
		}
	}
	if fc.Star35 == fc.Star77 && fc.Star35 != "" {
		errs = append(errs, hotdesk.Invalidf(prefix+"star77", "The two feature codes must differ."))
	}
	if !reDigits.MatchString(fc.Logout77) {
		errs = append(errs, hotdesk.Invalidf(prefix+"logout77", "The logout digit is 1 to 4 digits, like 5."))
	}
	return errs
}

// Emergency requires at least one emergency number of 1 to 6 digits.
func Emergency(field string, nums []string) error {
	if len(nums) == 0 {
		return hotdesk.Invalidf(field, "At least one emergency number is required (e.g. 112).")
	}
	for _, n := range nums {
		if !reDialable.MatchString(n) {
			return hotdesk.Invalidf(field, "Emergency number %s must be 1 to 6 digits.", n)
		}
	}
	return nil
}

// AutoLogout checks each field of an auto-logout policy on its own with
// desk.ValidatePolicy (daily_at HH:MM; durations of at least 1m, empty =
// off), naming fields prefix+"daily_at", prefix+"max_duration",
// prefix+"idle_timeout" and prefix+"lost_registration".
func AutoLogout(prefix string, p hotdesk.AutoLogout) []error {
	var errs []error
	for _, one := range []hotdesk.AutoLogout{{DailyAt: p.DailyAt}, {MaxDuration: p.MaxDuration},
		{IdleTimeout: p.IdleTimeout}, {LostRegistration: p.LostRegistration}} {
		err := desk.ValidatePolicy(one)
		if err == nil {
			continue
		}
		name := hotdesk.ErrorField(err)
		if name == "daily_at" {
			errs = append(errs, hotdesk.Invalidf(prefix+name, "%s", hotdesk.ErrorMessage(err)))
			continue
		}
		errs = append(errs, hotdesk.Invalidf(prefix+name, "%s must be a duration of at least 1m, like 12h or 90m (empty = off).", label(name)))
	}
	return errs
}

// Lang requires a prompt language the PBX has: en or nl.
func Lang(field, v string) error {
	if v != "en" && v != "nl" {
		return invalid(field, "must be en or nl.")
	}
	return nil
}

// Timezone requires an IANA time zone name.
func Timezone(field, v string) error {
	if _, err := time.LoadLocation(v); err != nil || v == "" {
		return invalid(field, "must be an IANA name like Europe/Amsterdam.")
	}
	return nil
}

// Trunk checks the SIP trunk, naming fields prefix+"proxy",
// prefix+"sources" and prefix+"username": the proxy is host:port (required
// when the trunk is enabled), each source an IP address or CIDR range, and
// registering needs a username.
func Trunk(prefix string, t hotdesk.Trunk) []error {
	var errs []error
	if t.Proxy != "" {
		if host, port, err := net.SplitHostPort(t.Proxy); err != nil || !validHost(host) || !validPort(port) {
			errs = append(errs, invalid(prefix+"proxy", "must be host:port, like sip.provider.example:5060."))
		}
	} else if t.Enabled {
		errs = append(errs, hotdesk.Invalidf(prefix+"proxy", "An enabled trunk needs a proxy (host:port)."))
	}
	if err := Sources(prefix+"sources", t.Sources); err != nil {
		errs = append(errs, err)
	}
	if t.Register && t.Username == "" {
		errs = append(errs, hotdesk.Invalidf(prefix+"username", "Registering to the provider needs a username."))
	}
	if t.Transport != "" && !slices.Contains(hotdesk.TrunkTransports, t.Transport) {
		errs = append(errs, hotdesk.Invalidf(prefix+"transport", "Transport must be udp, tcp or tls."))
	}
	return errs
}

// Limits checks the per-device limits, naming fields prefix+json name:
// each a whole number from 1 to its maximum.
func Limits(prefix string, l hotdesk.LimitSettings) []error {
	var errs []error
	for _, f := range []struct {
		name   string
		v, max int
	}{
		{"calls_per_device", l.CallsPerDevice, 1000},
		{"subscriptions_per_device", l.SubscriptionsPerDevice, 10000},
		{"subscriptions_per_extension", l.SubscriptionsPerExtension, 100000},
	} {
		if f.v < 1 || f.v > f.max {
			errs = append(errs, hotdesk.Invalidf(prefix+f.name, "%s must be a number from 1 to %d.", label(f.name), f.max))
		}
	}
	return errs
}

// Sources requires each entry to be an IP address, a CIDR range, or an
// address with a port (192.0.2.7:5060, [2001:db8::7]:5060) for a provider
// that shares its address with phones (one NAT or SBC for both).
func Sources(field string, srcs []string) error {
	for _, s := range srcs {
		if net.ParseIP(s) != nil {
			continue
		}
		if _, _, err := net.ParseCIDR(s); err == nil {
			continue
		}
		if host, port, err := net.SplitHostPort(s); err == nil && net.ParseIP(host) != nil {
			if n, err := strconv.Atoi(port); err == nil && n >= 1 && n <= 65535 {
				continue
			}
		}
		return hotdesk.Invalidf(field, "Source %s is not an IP address, CIDR range or address:port.", s)
	}
	return nil
}

// AuditKinds returns the kinds the audit trail holds, in the order a
// filter offers them (a new slice each call).
func AuditKinds() []string {
	return []string{
		hotdesk.KindLogin, hotdesk.KindLogout, hotdesk.KindLoginFailed, hotdesk.KindLocked, hotdesk.KindUnlocked,
		hotdesk.KindAuthFailed, hotdesk.KindAuthBlocked, hotdesk.KindAuthDeviceBlocked, hotdesk.KindRegistered, hotdesk.KindUnregistered,
		hotdesk.KindEmergency, hotdesk.KindUserChanged, hotdesk.KindDeviceChanged, hotdesk.KindSettings,
		hotdesk.KindAdminSignIn, hotdesk.KindProvisionFetch, hotdesk.KindVoicemail,
	}
}

// Kinds requires every kind to be one of known (e.g. AuditKinds()).
func Kinds(field string, kinds, known []string) error {
	for _, k := range kinds {
		if !slices.Contains(known, k) {
			return hotdesk.Invalidf(field, "Unknown kind %q; known kinds: %s.", k, strings.Join(known, ", "))
		}
	}
	return nil
}

// Digit timeouts of prompted logins (PromptSettings), in seconds.
const (
	MinDigitSeconds = 3  // less is not enough for a person to react
	MaxDigitSeconds = 60 // more only holds a call nobody is using
)

// Prompts checks the digit timeouts of prompted logins, naming fields
// prefix+"first_digit_seconds" and prefix+"inter_digit_seconds": each a
// whole number of seconds from MinDigitSeconds to MaxDigitSeconds.
func Prompts(prefix string, p hotdesk.PromptSettings) []error {
	var errs []error
	for _, f := range []struct {
		name, what string
		v          int
	}{{"first_digit_seconds", "The wait for the first key", p.FirstDigitSeconds},
		{"inter_digit_seconds", "The wait between keys", p.InterDigitSeconds}} {
		if f.v < MinDigitSeconds || f.v > MaxDigitSeconds {
			errs = append(errs, hotdesk.Invalidf(prefix+f.name, "%s must be %d to %d seconds (default 10).", f.what, MinDigitSeconds, MaxDigitSeconds))
		}
	}
	return errs
}

// reHostLabel is one DNS label: letters, digits and inner hyphens.
var reHostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// validHost accepts an IP address or a DNS name (labels of letters,
// digits and inner hyphens, at most 253 characters).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if !reHostLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// validPort accepts a decimal port from 1 to 65535.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && p[0] != '+'
}
