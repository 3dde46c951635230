package b2bua

import (
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
)

// Dialled returns the number in a Request-URI user part: escapes are
// decoded (%2A is '*', %2B is '+': RFC 3261 section 19.1.2 lets a phone
// escape any character, and an escaped "+" must not slip past the
// international permission check as a "local" number), a trailing '#'
// (the phone's "send" key) is dropped, and visual separators some phones
// keep ("-", ".", " ", "(", ")") are removed.
func Dialled(user string) string {
	s := unescape(user)
	s = strings.TrimRight(s, "#")
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '.', ' ', '(', ')':
			return -1
		}
		return r
	}, s)
}

// unescape decodes %XX escapes; a malformed escape is kept as it is.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if hi, lo := unhex(s[i+1]), unhex(s[i+2]); hi >= 0 && lo >= 0 {
				sb.WriteByte(byte(hi<<4 | lo))
				i += 2
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// requestNumber is the dialled number of a Request-URI: the user part of a
// sip: URI, the number of a tel: URI (RFC 3966, parameters dropped), which
// sipgo leaves out of Uri.User.
func requestNumber(u sip.Uri) string {
	if strings.EqualFold(u.Scheme, "tel") {
		n := strings.TrimPrefix(u.String(), u.Scheme+":")
		if i := strings.IndexByte(n, ';'); i >= 0 {
			n = n[:i]
		}
		return Dialled(n)
	}
	return Dialled(u.User)
}

// IsEmergency reports whether number is one of the site's emergency numbers
// (the defaults when none are configured).
func IsEmergency(number string, st hotdesk.Settings) bool {
	nums := st.Emergency
	if len(nums) == 0 {
		nums = hotdesk.DefaultSettings().Emergency
	}
	return number != "" && slices.Contains(nums, number)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// prefixes returns the national and international prefixes, defaulted.
func prefixes(st hotdesk.Settings) (national, international string) {
	national, international = st.NationalPrefix, st.InternationalPrefix
	if national == "" {
		national = "0"
	}
	if international == "" {
		international = "00"
	}
	return national, international
}

// IsExtensionLike reports whether number is in the extension number space:
// 2–6 digits not starting with the national or international prefix.
func IsExtensionLike(number string, st hotdesk.Settings) bool {
	national, international := prefixes(st)
	return allDigits(number) && len(number) >= 2 && len(number) <= 6 &&
		!strings.HasPrefix(number, international) && !strings.HasPrefix(number, national)
}

// E164 converts a dialled or received number to E.164 ("+" and digits)
// with the site's prefixes and country code: "+31…" stays, "0031…" is
// international, "020…" national. It returns false for numbers it cannot
// place (short or local numbers, letters, no country code configured for a
// national number).
func E164(number string, st hotdesk.Settings) (string, bool) {
	national, international := prefixes(st)
	switch {
	case strings.HasPrefix(number, "+"):
		if allDigits(number[1:]) && len(number) > 3 {
			return number, true
		}
	case strings.HasPrefix(number, international):
		rest := number[len(international):]
		if allDigits(rest) && len(rest) > 2 {
			return "+" + rest, true
		}
	case strings.HasPrefix(number, national):
		rest := number[len(national):]
		if allDigits(rest) && len(rest) > 2 && allDigits(st.CountryCode) {
			return "+" + st.CountryCode + rest, true
		}
	case allDigits(number) && len(number) > 7 && allDigits(st.CountryCode) && strings.HasPrefix(number, st.CountryCode):
		// Providers often send E.164 without the "+".
		return "+" + number, true
	}
	return "", false
}

// Scope is the outbound permission a call to an external number needs:
// international when it leaves the site's country, national otherwise.
func Scope(number string, st hotdesk.Settings) string {
	e, ok := E164(number, st)
	if !ok {
		return hotdesk.OutboundNational // local and short numbers
	}
	if st.CountryCode != "" && strings.HasPrefix(e[1:], st.CountryCode) {
		return hotdesk.OutboundNational
	}
	return hotdesk.OutboundInternational
}

// rank orders the permission levels; unknown or empty is internal only.
func rank(perm string) int {
	switch perm {
	case hotdesk.OutboundInternational:
		return 2
	case hotdesk.OutboundNational:
		return 1
	}
	return 0
}

// Allowed reports whether a user with permission perm may make a call that
// needs scope.
func Allowed(perm, scope string) bool { return rank(perm) >= rank(scope) }

// TrunkNumber is the form a number is sent to the provider in: E.164 when
// it can be placed, else as dialled.
func TrunkNumber(number string, st hotdesk.Settings) string {
	if e, ok := E164(number, st); ok {
		return e
	}
	return number
}
