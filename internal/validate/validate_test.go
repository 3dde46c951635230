package validate

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// wantField checks that err is nil when field is "", else an EINVALID
// *hotdesk.Error naming field with a message.
func wantField(tb testing.TB, what string, err error, field string) {
	tb.Helper()
	if field == "" {
		if err != nil {
			tb.Errorf("%s: %v, want ok", what, err)
		}
		return
	}
	var e *hotdesk.Error
	if !errors.As(err, &e) || e.Code != hotdesk.EINVALID || e.Field != field || e.Message == "" {
		tb.Errorf("%s: %v, want EINVALID on %q", what, err, field)
	}
}

// fieldsOf returns the fields the errors name, in order.
func fieldsOf(errs []error) []string {
	var out []string
	for _, err := range errs {
		out = append(out, hotdesk.ErrorField(err))
	}
	return out
}

// fieldCase is a case of a check that names every bad field: the value
// and the fields its errors must name, in order.
type fieldCase[T any] struct {
	name string
	v    T
	want []string
}

// checkFields runs check on every case: the errors must name the fields
// wanted, each an EINVALID with a message.
func checkFields[T any](t *testing.T, check func(T) []error, cases []fieldCase[T]) {
	t.Helper()
	for _, tc := range cases {
		errs := check(tc.v)
		if got := fieldsOf(errs); !slices.Equal(got, tc.want) {
			t.Errorf("%s: errors on %v, want %v", tc.name, got, tc.want)
		}
		for _, err := range errs {
			wantField(t, tc.name, err, hotdesk.ErrorField(err))
		}
	}
}

func TestStringRules(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 101)
	for _, tc := range []struct {
		name string
		rule func(field, v string) error
		v    string
		ok   bool
	}{
		{"Extension", Extension, "20", true},
		{"Extension", Extension, "123456", true},
		{"Extension", Extension, "2", false},
		{"Extension", Extension, "1234567", false},
		{"Extension", Extension, "2a1", false},
		{"Extension", Extension, "", false},
		{"E164", E164, "", true},
		{"E164", E164, "+31201234567", true},
		{"E164", E164, "+31201234", true},        // 8 digits
		{"E164", E164, "+312012345678901", true}, // 15 digits
		{"E164", E164, "+3120123", false},        // 7 digits
		{"E164", E164, "+12", false},             // the console's old rule took this
		{"E164", E164, "+3120123456789012", false},
		{"E164", E164, "31201234567", false},
		{"E164", E164, "0201234567", false},
		{"E164", E164, "+0201234567", false},
		{"E164", E164, "+31 20 123 4567", false},
		{"Outbound", Outbound, hotdesk.OutboundInternal, true},
		{"Outbound", Outbound, hotdesk.OutboundNational, true},
		{"Outbound", Outbound, hotdesk.OutboundInternational, true},
		{"Outbound", Outbound, "local", false},
		{"Outbound", Outbound, "", false},
		{"Email", Email, "", true},
		{"Email", Email, "a@b", true},
		{"Email", Email, "ann@example.com", true},
		{"Email", Email, "ann@", false},
		{"Email", Email, "Fien <f@x.nl>", false},
		{"Email", Email, strings.Repeat("a", 250) + "@b.nl", false},
		{"DeviceID", DeviceID, "", true},
		{"DeviceID", DeviceID, "HD00001", true},
		{"DeviceID", DeviceID, "ann-soft.2_b", true},
		{"DeviceID", DeviceID, "-ann", false},
		{"DeviceID", DeviceID, "ann soft", false},
		{"DeviceID", DeviceID, strings.Repeat("a", 33), false},
		{"Model", Model, hotdesk.ModelSnom, true},
		{"Model", Model, hotdesk.ModelYealink, true},
		{"Model", Model, hotdesk.ModelGrandstream, true},
		{"Model", Model, hotdesk.ModelGeneric, true},
		{"Model", Model, "cisco", false},
		{"Mode", Mode, hotdesk.ModeHotdesk, true},
		{"Mode", Mode, hotdesk.ModePersonal, true},
		{"Mode", Mode, "shared", false},
		{"Country", Country, "", true},
		{"Country", Country, "NL", true},
		{"Country", Country, "nl", false},
		{"Country", Country, "NLD", false},
		{"Digits", Digits, "0", true},
		{"Digits", Digits, "0031", true},
		{"Digits", Digits, "", false},
		{"Digits", Digits, "00031", false},
		{"Digits", Digits, "+31", false},
		{"Lang", Lang, "en", true},
		{"Lang", Lang, "nl", true},
		{"Lang", Lang, "de", false},
		{"Lang", Lang, "", false},
		{"Timezone", Timezone, "Europe/Amsterdam", true},
		{"Timezone", Timezone, "UTC", true},
		{"Timezone", Timezone, "", false},
		{"Timezone", Timezone, "Mars/Base", false},
		{"Name", func(f, v string) error { return Name(f, v, true) }, "Ann", true},
		{"Name", func(f, v string) error { return Name(f, v, true) }, "  ", false},
		{"Name", func(f, v string) error { return Name(f, v, true) }, long, false},
		{"Name optional", func(f, v string) error { return Name(f, v, false) }, "", true},
		{"Owner hotdesk", func(f, v string) error { return Owner(f, hotdesk.ModeHotdesk, v) }, "", true},
		{"Owner hotdesk", func(f, v string) error { return Owner(f, hotdesk.ModeHotdesk, v) }, "x", true},
		{"Owner personal", func(f, v string) error { return Owner(f, hotdesk.ModePersonal, v) }, "201", true},
		{"Owner personal", func(f, v string) error { return Owner(f, hotdesk.ModePersonal, v) }, "", false},
		{"Owner personal", func(f, v string) error { return Owner(f, hotdesk.ModePersonal, v) }, "2x", false},
	} {
		field := ""
		if !tc.ok {
			field = "some.field"
		}
		wantField(t, tc.name+"("+tc.v+")", tc.rule("some.field", tc.v), field)
	}
}

func TestListRules(t *testing.T) {
	t.Parallel()
	many := func(v string, n int) []string { return slices.Repeat([]string{v}, n) }
	var hundred []string
	for i := range 100 {
		hundred = append(hundred, "+312012345"+string(rune('0'+i/10))+string(rune('0'+i%10)))
	}
	for _, tc := range []struct {
		name string
		rule func(field string, v []string) error
		v    []string
		ok   bool
	}{
		{"DIDs", DIDs, nil, true},
		{"DIDs", DIDs, []string{"+31201234567", "+31201234568"}, true},
		{"DIDs", DIDs, hundred, true},
		{"DIDs", DIDs, append(hundred, "+31209999999"), false},
		{"DIDs", DIDs, []string{"+31201234567", "+31201234567"}, false},
		{"DIDs", DIDs, []string{"+31201234567", "12"}, false},
		{"DIDs", DIDs, []string{""}, false},
		{"BLF", BLF, nil, true},
		{"BLF", BLF, []string{"201", "202"}, true},
		{"BLF", BLF, many("201", 100), true},
		{"BLF", BLF, many("201", 101), false},
		{"BLF", BLF, []string{"201", "9"}, false},
		{"Emergency", Emergency, []string{"112"}, true},
		{"Emergency", Emergency, []string{"112", "911", "999999"}, true},
		{"Emergency", Emergency, nil, false},
		{"Emergency", Emergency, []string{"112", "11a"}, false},
		{"Emergency", Emergency, []string{"1234567"}, false},
		{"Sources", Sources, nil, true},
		{"Sources", Sources, []string{"192.0.2.1", "10.0.0.0/8", "2001:db8::1", "2001:db8::/32"}, true},
		{"Sources", Sources, []string{"10.0.0.0/8", "nonsense"}, false},
		{"Sources", Sources, []string{"10.0.0.0/33"}, false},
		{"Sources", Sources, []string{"192.0.2.1:5060", "[2001:db8::1]:5080"}, true},
		{"Sources", Sources, []string{"192.0.2.1:99999"}, false},
		{"Sources", Sources, []string{"192.0.2.1:0"}, false},
		{"Sources", Sources, []string{"provider.test:5060"}, false},
	} {
		field := ""
		if !tc.ok {
			field = "f"
		}
		wantField(t, tc.name+"("+strings.Join(tc.v, ",")+")", tc.rule("f", tc.v), field)
	}
}

func TestRingTimeout(t *testing.T) {
	t.Parallel()
	for n, ok := range map[int]bool{0: true, 5: true, 30: true, 300: true, 4: false, 301: false, -1: false} {
		field := ""
		if !ok {
			field = "ring_timeout"
		}
		wantField(t, "RingTimeout", RingTimeout("ring_timeout", n), field)
	}
}

func TestMaxLen(t *testing.T) {
	t.Parallel()
	wantField(t, "MaxLen ok", MaxLen("label", "Desk 1", 6), "")
	wantField(t, "MaxLen long", MaxLen("label", "Desk 12", 6), "label")
}

func TestMAC(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want, field string }{
		{"", "", ""},
		{"  ", "", ""},
		{"805ec0123456", "805ec0123456", ""},
		{"80:5E:C0:12:34:56", "805ec0123456", ""},
		{"80-5e-c0-12-34-56", "805ec0123456", ""},
		{"805e.c012.3456", "805ec0123456", ""},
		{" 000413aabbcc ", "000413aabbcc", ""},
		{"805ec012345", "", "mac"},
		{"805ec012345g", "", "mac"},
		{"80:5e:c0:12:34:56:78", "", "mac"},
		{"00 04 13 aa bb cc", "", "mac"},
		{"00:04:13:AA:BB:CC", "000413aabbcc", ""},
		{"00-04-13-aa-bb-cc", "000413aabbcc", ""},
		{"0004.13aa.bbcc", "000413aabbcc", ""},
		{"00:04:13:aa:bb", "", "mac"},
		{"00:04:13:aa:bb:cc:dd", "", "mac"},
		{"00:04:13:zz:bb:cc", "", "mac"},
	} {
		got, err := MAC("mac", tc.in)
		if got != tc.want {
			t.Errorf("MAC(%q) = %q, want %q", tc.in, got, tc.want)
		}
		wantField(t, "MAC("+tc.in+")", err, tc.field)
	}
}

func TestFeatureCodes(t *testing.T) {
	t.Parallel()
	ok := hotdesk.FeatureCodes{Star35: "*35", Star77: "*77", Logout77: "5"}
	checkFields(t, func(change func(*hotdesk.FeatureCodes)) []error {
		fc := ok
		change(&fc)
		return FeatureCodes("fc.", fc)
	}, []fieldCase[func(*hotdesk.FeatureCodes)]{
		{"ok", func(*hotdesk.FeatureCodes) {}, nil},
		{"four digits", func(fc *hotdesk.FeatureCodes) { fc.Star35, fc.Logout77 = "*3535", "1234" }, nil},
		{"no star", func(fc *hotdesk.FeatureCodes) { fc.Star77 = "77" }, []string{"fc.star77"}},
		{"both bad", func(fc *hotdesk.FeatureCodes) { fc.Star35, fc.Star77 = "", "*12345" }, []string{"fc.star35", "fc.star77"}},
		{"same", func(fc *hotdesk.FeatureCodes) { fc.Star77 = "*35" }, []string{"fc.star77"}},
		{"logout", func(fc *hotdesk.FeatureCodes) { fc.Logout77 = "" }, []string{"fc.logout77"}},
		{"logout star", func(fc *hotdesk.FeatureCodes) { fc.Logout77 = "*5" }, []string{"fc.logout77"}},
	})
}

func TestAutoLogout(t *testing.T) {
	t.Parallel()
	checkFields(t, func(p hotdesk.AutoLogout) []error {
		errs := AutoLogout("al_", p)
		for _, err := range errs {
			if msg := hotdesk.ErrorMessage(err); !strings.Contains(msg, "Daily logout time") && !strings.Contains(msg, "at least 1m") {
				t.Errorf("%+v: message %q", p, msg)
			}
		}
		return errs
	}, []fieldCase[hotdesk.AutoLogout]{
		{"off", hotdesk.AutoLogout{}, nil},
		{"all set", hotdesk.AutoLogout{DailyAt: "23:59", MaxDuration: "12h", IdleTimeout: "90m", LostRegistration: "1m"}, nil},
		{"midnight", hotdesk.AutoLogout{DailyAt: "00:00"}, nil},
		{"bad daily", hotdesk.AutoLogout{DailyAt: "24:00"}, []string{"al_daily_at"}},
		{"daily no pad", hotdesk.AutoLogout{DailyAt: "6:00"}, []string{"al_daily_at"}},
		{"daily words", hotdesk.AutoLogout{DailyAt: "6pm"}, []string{"al_daily_at"}},
		{"every field bad", hotdesk.AutoLogout{DailyAt: "25:61", MaxDuration: "5s", IdleTimeout: "soon", LostRegistration: "-1h"},
			[]string{"al_daily_at", "al_max_duration", "al_idle_timeout", "al_lost_registration"}},
	})
}

func TestTrunk(t *testing.T) {
	t.Parallel()
	checkFields(t, func(tr hotdesk.Trunk) []error { return Trunk("trunk.", tr) }, []fieldCase[hotdesk.Trunk]{
		{"off", hotdesk.Trunk{}, nil},
		{"ok", hotdesk.Trunk{Enabled: true, Proxy: "sip.provider.example:5060", Register: true, Username: "u",
			Sources: []string{"192.0.2.0/24"}}, nil},
		{"ipv6 proxy", hotdesk.Trunk{Enabled: true, Proxy: "[2001:db8::1]:5060"}, nil},
		{"enabled without proxy", hotdesk.Trunk{Enabled: true}, []string{"trunk.proxy"}},
		{"no port", hotdesk.Trunk{Proxy: "sip.provider.example"}, []string{"trunk.proxy"}},
		{"no host", hotdesk.Trunk{Proxy: ":5060"}, []string{"trunk.proxy"}},
		{"empty port", hotdesk.Trunk{Proxy: "sip.provider.example:"}, []string{"trunk.proxy"}},
		{"not a host, port too big", hotdesk.Trunk{Proxy: "not a host:99999"}, []string{"trunk.proxy"}},
		{"port too big", hotdesk.Trunk{Proxy: "sip.provider.example:99999"}, []string{"trunk.proxy"}},
		{"port zero", hotdesk.Trunk{Proxy: "sip.provider.example:0"}, []string{"trunk.proxy"}},
		{"port name", hotdesk.Trunk{Proxy: "sip.provider.example:sip"}, []string{"trunk.proxy"}},
		{"space in host", hotdesk.Trunk{Proxy: "not a host:5060"}, []string{"trunk.proxy"}},
		{"underscore host", hotdesk.Trunk{Proxy: "sip_x.example:5060"}, []string{"trunk.proxy"}},
		{"ipv4 proxy", hotdesk.Trunk{Proxy: "192.0.2.1:5061"}, nil},
		{"bad source", hotdesk.Trunk{Sources: []string{"nonsense"}}, []string{"trunk.sources"}},
		{"register without user", hotdesk.Trunk{Register: true}, []string{"trunk.username"}},
		{"tcp", hotdesk.Trunk{Transport: "tcp"}, nil},
		{"tls", hotdesk.Trunk{Transport: "tls"}, nil},
		{"udp", hotdesk.Trunk{Transport: "udp"}, nil},
		{"bad transport", hotdesk.Trunk{Transport: "TCP"}, []string{"trunk.transport"}},
		{"sctp", hotdesk.Trunk{Transport: "sctp"}, []string{"trunk.transport"}},
		{"all bad", hotdesk.Trunk{Enabled: true, Register: true, Sources: []string{"x"}},
			[]string{"trunk.proxy", "trunk.sources", "trunk.username"}},
	})
}

func TestLimits(t *testing.T) {
	t.Parallel()
	ok := hotdesk.DefaultSettings().Limits
	checkFields(t, func(l hotdesk.LimitSettings) []error { return Limits("limits.", l) }, []fieldCase[hotdesk.LimitSettings]{
		{"defaults", ok, nil},
		{"ones", hotdesk.LimitSettings{CallsPerDevice: 1, SubscriptionsPerDevice: 1, SubscriptionsPerExtension: 1}, nil},
		{"zero", hotdesk.LimitSettings{}, []string{"limits.calls_per_device", "limits.subscriptions_per_device", "limits.subscriptions_per_extension"}},
		{"too many calls", hotdesk.LimitSettings{CallsPerDevice: 1001, SubscriptionsPerDevice: 1, SubscriptionsPerExtension: 1}, []string{"limits.calls_per_device"}},
	})
}

// TestMessages pins the wording both the API and the console show: the
// message names the field in words, whichever way the caller spells it.
func TestMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{Extension("extension", "2x"), "Extension must be 2 to 6 digits."},
		{E164("caller_id", "+12"), "Caller ID must be an E.164 number like +31201234567 (+ and 8 to 15 digits)."},
		{Country("location.country", "nl"), "Location country must be a two-letter ISO code like NL."},
		{Country("country", "nl"), "Country must be a two-letter ISO code like NL."},
		{Timezone("timezone", "x"), "Time zone must be an IANA name like Europe/Amsterdam."},
		{Lang("lang", "de"), "Language must be en or nl."},
		{DIDs("dids", []string{"12"}), "Direct number 12 is not an E.164 number like +31201234567 (+ and 8 to 15 digits)."},
		{BLF("blf", []string{"9"}), "BLF key 9 is not an extension (2 to 6 digits)."},
		{Emergency("emergency", []string{"11a"}), "Emergency number 11a must be 1 to 6 digits."},
		{Trunk("trunk_", hotdesk.Trunk{Proxy: "x"})[0], "Trunk proxy must be host:port, like sip.provider.example:5060."},
		{AutoLogout("auto_logout.", hotdesk.AutoLogout{IdleTimeout: "1s"})[0], "Idle timeout must be a duration of at least 1m, like 12h or 90m (empty = off)."},
	} {
		if got := hotdesk.ErrorMessage(tc.err); got != tc.want {
			t.Errorf("message %q, want %q", got, tc.want)
		}
	}
	if _, err := MAC("mac", "x"); hotdesk.ErrorMessage(err) != "MAC must be 12 hex digits, e.g. 00:04:13:aa:bb:cc." {
		t.Errorf("MAC message %q", hotdesk.ErrorMessage(err))
	}
}

// TestNilIsNil guards the reason rules return error: a passing rule's
// result must compare equal to nil once stored in an error.
func TestNilIsNil(t *testing.T) {
	t.Parallel()
	var err error = Extension("extension", "201")
	if err != nil {
		t.Fatalf("a passing rule returned a non-nil error %#v", err)
	}
}

func TestKinds(t *testing.T) {
	t.Parallel()
	known := AuditKinds()
	for _, tc := range []struct {
		kinds []string
		ok    bool
	}{
		{nil, true},
		{[]string{hotdesk.KindLogin, hotdesk.KindProvisionFetch}, true},
		{[]string{hotdesk.KindAuthDeviceBlocked}, true}, // the console's audit filter offers it
		{[]string{hotdesk.KindLogin, "lunch"}, false},
		{[]string{""}, false},
	} {
		field := ""
		if !tc.ok {
			field = "kind"
		}
		wantField(t, "Kinds("+strings.Join(tc.kinds, ",")+")", Kinds("kind", tc.kinds, known), field)
	}
	known[0] = "changed"
	if AuditKinds()[0] != hotdesk.KindLogin {
		t.Error("AuditKinds shares its slice with callers")
	}
}

func TestPrompts(t *testing.T) {
	t.Parallel()
	checkFields(t, func(p hotdesk.PromptSettings) []error { return Prompts("prompts.", p) }, []fieldCase[hotdesk.PromptSettings]{
		{"defaults", hotdesk.DefaultSettings().Prompts, nil},
		{"bounds", hotdesk.PromptSettings{FirstDigitSeconds: 3, InterDigitSeconds: 60}, nil},
		{"too short", hotdesk.PromptSettings{FirstDigitSeconds: 2, InterDigitSeconds: 10}, []string{"prompts.first_digit_seconds"}},
		{"too long", hotdesk.PromptSettings{FirstDigitSeconds: 10, InterDigitSeconds: 61}, []string{"prompts.inter_digit_seconds"}},
		{"unset", hotdesk.PromptSettings{}, []string{"prompts.first_digit_seconds", "prompts.inter_digit_seconds"}},
	})
	err := Prompts("", hotdesk.PromptSettings{FirstDigitSeconds: 1, InterDigitSeconds: 10})[0]
	if msg := hotdesk.ErrorMessage(err); msg != "The wait for the first key must be 3 to 60 seconds (default 10)." {
		t.Errorf("message %q", msg)
	}
}
