package feature

import (
	"net/url"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// Kind is the shape of a dialled feature code (SPEC section 5).
type Kind int

// Feature-code shapes.
const (
	// KindBare is *35: neutral phone → prompt for extension and PIN; logged
	// in → log out.
	KindBare Kind = iota + 1
	// KindExtension is *35*E: prompt for E's PIN (or log out when E is
	// already logged in here).
	KindExtension
	// KindInline is *35*E*P: log in as E with PIN P, toggling out when E
	// is already logged in here.
	KindInline
	// KindLogin77 is *77*E*: prompt for E's PIN, then log in or switch.
	KindLogin77
	// KindLogout77 is *77*5*: log out whoever is logged in.
	KindLogout77
)

// Code families.
const (
	Family35 = "35"
	Family77 = "77"
)

// Max lengths accepted by Parse; the desk rules check real validity.
const (
	maxExtension = 10
	maxPIN       = 16
)

// String names the kind for logs and test failures.
func (k Kind) String() string {
	switch k {
	case KindBare:
		return "bare"
	case KindExtension:
		return "extension"
	case KindInline:
		return "inline"
	case KindLogin77:
		return "login77"
	case KindLogout77:
		return "logout77"
	case KindMailbox:
		return "mailbox"
	case KindMailboxAny:
		return "mailbox_any"
	}
	return "unknown"
}

// Code is a parsed feature code. PIN is set only for KindInline; never log it.
type Code struct {
	Family    string // Family35 or Family77
	Kind      Kind
	Extension string
	PIN       string
}

// String renders the code without its PIN.
func (c Code) String() string {
	s := c.Family + "/" + c.Kind.String()
	if c.Extension != "" {
		s += "/" + c.Extension
	}
	return s
}

// Parse recognises a dialled number (a Request-URI user part) as a feature
// code of an enabled family. "%2A" is "*", a trailing '#' is ignored.
// Anything else, including a code of a disabled family, gives false.
func Parse(dialled string, fc hotdesk.FeatureCodes) (Code, bool) {
	if u, err := url.PathUnescape(dialled); err == nil {
		dialled = u
	}
	dialled = strings.TrimSuffix(dialled, "#")
	if c, ok := parseVoicemail(dialled, fc); ok {
		return c, true
	}
	if fc.Star35Enabled && fc.Star35 != "" {
		if rest, ok := strings.CutPrefix(dialled, fc.Star35); ok {
			return parse35(rest)
		}
	}
	if fc.Star77Enabled && fc.Star77 != "" {
		if rest, ok := strings.CutPrefix(dialled, fc.Star77); ok {
			logout := fc.Logout77
			if logout == "" {
				logout = "5"
			}
			return parse77(rest, logout)
		}
	}
	return Code{}, false
}

// parse35 parses what follows *35: "", "*E", "*E*" or "*E*P".
func parse35(rest string) (Code, bool) {
	c := Code{Family: Family35}
	if rest == "" {
		c.Kind = KindBare
		return c, true
	}
	parts := strings.Split(rest, "*")
	if parts[0] != "" || len(parts) > 3 || !digits(parts[1], maxExtension) {
		return Code{}, false
	}
	c.Extension = parts[1]
	if len(parts) == 2 || parts[2] == "" {
		c.Kind = KindExtension
		return c, true
	}
	if !digits(parts[2], maxPIN) {
		return Code{}, false
	}
	c.Kind, c.PIN = KindInline, parts[2]
	return c, true
}

// parse77 parses what follows *77: "*E*" (the closing star may be left off).
func parse77(rest, logout string) (Code, bool) {
	body, ok := strings.CutPrefix(rest, "*")
	if !ok {
		return Code{}, false
	}
	body = strings.TrimSuffix(body, "*")
	if !digits(body, maxExtension) {
		return Code{}, false
	}
	if body == logout {
		return Code{Family: Family77, Kind: KindLogout77}, true
	}
	return Code{Family: Family77, Kind: KindLogin77, Extension: body}, true
}

// digits reports whether s is 1 to max decimal digits.
func digits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
