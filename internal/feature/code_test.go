package feature

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestParse(t *testing.T) {
	def := hotdesk.DefaultSettings().FeatureCodes
	no35 := def
	no35.Star35Enabled = false
	no77 := def
	no77.Star77Enabled = false
	custom := hotdesk.FeatureCodes{Star35Enabled: true, Star35: "*44", Star77Enabled: true, Star77: "#88", Logout77: "0"}
	tests := []struct {
		name    string
		dialled string
		fc      hotdesk.FeatureCodes
		want    Code
		ok      bool
	}{
		{"bare", "*35", def, Code{Family: Family35, Kind: KindBare}, true},
		{"bare escaped", "%2A35", def, Code{Family: Family35, Kind: KindBare}, true},
		{"bare lower-case escape", "%2a35", def, Code{Family: Family35, Kind: KindBare}, true},
		{"bare trailing hash", "*35#", def, Code{Family: Family35, Kind: KindBare}, true},
		{"extension", "*35*201", def, Code{Family: Family35, Kind: KindExtension, Extension: "201"}, true},
		{"extension trailing star", "*35*201*", def, Code{Family: Family35, Kind: KindExtension, Extension: "201"}, true},
		{"inline", "*35*201*1234", def, Code{Family: Family35, Kind: KindInline, Extension: "201", PIN: "1234"}, true},
		{"inline escaped hash", "%2A35%2A201%2A1234%23", def, Code{Family: Family35, Kind: KindInline, Extension: "201", PIN: "1234"}, true},
		{"inline too many parts", "*35*201*1234*5", def, Code{}, false},
		{"inline pin letters", "*35*201*12a4", def, Code{}, false},
		{"no star after prefix", "*35201", def, Code{}, false},
		{"empty extension", "*35**1234", def, Code{}, false},
		{"star77 login", "*77*201*", def, Code{Family: Family77, Kind: KindLogin77, Extension: "201"}, true},
		{"star77 login no closing star", "*77*201", def, Code{Family: Family77, Kind: KindLogin77, Extension: "201"}, true},
		{"star77 logout", "*77*5*", def, Code{Family: Family77, Kind: KindLogout77}, true},
		{"star77 logout hash", "*77*5*#", def, Code{Family: Family77, Kind: KindLogout77}, true},
		{"star77 bare", "*77", def, Code{}, false},
		{"star77 with pin", "*77*201*1234", def, Code{}, false},
		{"35 disabled", "*35*201*1234", no35, Code{}, false},
		{"77 still on when 35 off", "*77*5*", no35, Code{Family: Family77, Kind: KindLogout77}, true},
		{"77 disabled", "*77*201*", no77, Code{}, false},
		{"custom 35", "*44*201*1234", custom, Code{Family: Family35, Kind: KindInline, Extension: "201", PIN: "1234"}, true},
		{"custom old code off", "*35*201*1234", custom, Code{}, false},
		{"custom 77 logout", "#88*0*", custom, Code{Family: Family77, Kind: KindLogout77}, true},
		{"custom 77 old logout is a login", "#88*5*", custom, Code{Family: Family77, Kind: KindLogin77, Extension: "5"}, true},
		{"extension number", "201", def, Code{}, false},
		{"emergency", "112", def, Code{}, false},
		{"empty", "", def, Code{}, false},
		{"long extension", "*35*12345678901", def, Code{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.dialled, tt.fc)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tt.dialled, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCodeStringHidesPIN(t *testing.T) {
	c, _ := Parse("*35*201*9876", hotdesk.DefaultSettings().FeatureCodes)
	if s := c.String(); s != "35/inline/201" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseDTMFInfo(t *testing.T) {
	tests := []struct {
		ct   string
		body string
		want rune
		ok   bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true},
		{"application/dtmf-relay", "Signal= #\r\nDuration=160", '#', true},
		{"Application/DTMF-Relay; charset=x", "signal=*\r\n", '*', true},
		{"application/dtmf-relay", "Signal=11\r\nDuration=100", '#', true},
		{"application/dtmf-relay", "Signal=10", '*', true},
		{"application/dtmf-relay", "Signal=a", 'A', true},
		{"application/dtmf-relay", "Duration=160", 0, false},
		{"application/dtmf-relay", "Signal=16", 0, false},
		{"application/dtmf-relay", "Signal=x", 0, false},
		{"application/dtmf", "5", '5', true},
		{"application/dtmf", " 9\r\n", '9', true},
		{"application/dtmf", "", 0, false},
		{"application/sdp", "Signal=5", 0, false},
		{"", "5", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseDTMFInfo(tt.ct, []byte(tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseDTMFInfo(%q, %q) = %q, %v; want %q, %v", tt.ct, tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"*35", "*35*201*1234", "%2A77*5*", "*77*201*#"} {
		f.Add(s)
	}
	fc := hotdesk.DefaultSettings().FeatureCodes
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := Parse(s, fc)
		if ok && (c.Kind < KindBare || c.Kind > KindLogout77) {
			t.Fatalf("bad kind %v", c.Kind)
		}
	})
}
