package web

import (
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// The field rules the console shares live in internal/validate; the ones
// here are the API's own (speed dials, SIP passwords, webhooks, filters).
var reSpeedDial = regexp.MustCompile(`^\+?[0-9*#]{1,32}$`)

// first returns the first non-nil error, so a request is refused for the
// first bad field in JSON order.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
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

func checkLocation(l hotdesk.Location) error {
	if err := validate.Country("location.country", l.Country); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"text", l.Text}, {"a1", l.A1}, {"a3", l.A3}, {"street", l.Street},
		{"house_no", l.HouseNo}, {"postcode", l.Postcode}, {"building", l.Building}, {"floor", l.Floor},
		{"room", l.Room}, {"seat", l.Seat}} {
		if err := validate.MaxLen("location."+f.name, f.v, 200); err != nil {
			return err
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

// checkSettings validates site settings, naming the JSON field at fault.
func checkSettings(s hotdesk.Settings) error {
	errs := validate.FeatureCodes("feature_codes.", s.FeatureCodes)
	errs = append(errs, validate.Emergency("emergency_numbers", s.Emergency))
	errs = append(errs, validate.AutoLogout("auto_logout.", s.AutoLogout)...)
	errs = append(errs, validate.Lang("lang", s.Lang), validate.Timezone("timezone", s.Timezone),
		validate.Digits("national_prefix", s.NationalPrefix), validate.Digits("international_prefix", s.InternationalPrefix),
		validate.Digits("country_code", s.CountryCode))
	errs = append(errs, validate.Trunk("trunk.", s.Trunk)...)
	errs = append(errs, validate.Prompts("prompts.", s.Prompts)...)
	errs = append(errs, validate.Limits("limits.", s.Limits)...)
	return first(errs...)
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
