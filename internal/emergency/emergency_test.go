package emergency

import (
	"slices"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
)

func TestPlace(t *testing.T) {
	ams := &hotdesk.Site{ID: 1, Name: "Amsterdam", Networks: []string{"10.1.0.0/16"},
		Location: hotdesk.Location{Country: "NL", A3: "Amsterdam", Street: "Keizersgracht", HouseNo: "1", Floor: "0"}}
	utr := &hotdesk.Site{ID: 2, Name: "Utrecht", Networks: []string{"10.2.0.0/16"}, Location: hotdesk.Location{A3: "Utrecht", Street: "Oudegracht"}}
	open := &hotdesk.Site{ID: 3, Name: "Open", Location: hotdesk.Location{A3: "Leiden"}} // no networks: never moved
	sites := []*hotdesk.Site{ams, utr, open}
	desk := &hotdesk.Device{ID: "HD1", Location: hotdesk.Location{Street: "Old street", Floor: "2", Room: "2.03"}}
	for _, tc := range []struct {
		name      string
		home      *hotdesk.Site
		source    string
		site      int64
		street    string
		floor     string
		moved     bool
		warnWords string
	}{
		{"no site, unknown network", nil, "192.0.2.1:5060", 0, "Old street", "2", false, ""},
		{"no site, a site's network", nil, "10.2.0.9:5060", 2, "Oudegracht", "2", false, ""},
		{"at home", ams, "10.1.4.4:5060", 1, "Keizersgracht", "2", false, ""},
		{"moved to another site", ams, "10.2.0.9:5060", 2, "Oudegracht", "", true, "on the network of site Utrecht"},
		{"moved nowhere known", ams, "192.0.2.1:5060", 1, "Keizersgracht", "2", true, "LOCATION NOT VERIFIED"},
		{"site without networks", open, "192.0.2.1:5060", 3, "Old street", "2", false, ""},
		{"IPv6 source", ams, "[2001:db8::1]:5060", 1, "Keizersgracht", "2", true, "2001:db8::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := place(desk, tc.home, sites, tc.source)
			var site int64
			if p.Site != nil {
				site = p.Site.ID
			}
			if site != tc.site || p.Location.Street != tc.street || p.Location.Floor != tc.floor || p.Moved != tc.moved ||
				(tc.warnWords == "") != (p.Warning == "") || !strings.Contains(p.Warning, tc.warnWords) {
				t.Errorf("place = site %d %+v moved %v warning %q", site, p.Location, p.Moved, p.Warning)
			}
		})
	}
}

func TestMessageNames(t *testing.T) {
	c := &hotdesk.EmergencyCall{Device: "HD00003", Extension: "201", Callback: "+31 20 1234",
		Location: hotdesk.Location{Seat: "2.03", Floor: "2", Room: "B"}, Warning: "moved"}
	got := MessageNames(c)
	want := []string{prompts.EmergencyAlert, prompts.FromDesk, "digit_2", "digit_0", "digit_3", prompts.Floor, "digit_2",
		prompts.Extension, "digit_2", "digit_0", "digit_1", prompts.CallbackNumber, prompts.Plus, "digit_3", "digit_1", "digit_2", "digit_0",
		"digit_1", "digit_2", "digit_3", "digit_4", prompts.LocationUnverified, prompts.PressOneToAck}
	if !slices.Equal(got, want) {
		t.Errorf("message\n got %v\nwant %v", got, want)
	}
	set, err := prompts.New("nl", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range got {
		if _, err := set.Get(n); err != nil {
			t.Errorf("prompt %s: %v", n, err)
		}
	}
}

func TestAckDetailRoundTrip(t *testing.T) {
	d := hotdesk.AckDetail(42, "205", "phone")
	if id, ok := hotdesk.AckedCallID(d); !ok || id != 42 {
		t.Errorf("AckedCallID(%q) = %d %v", d, id, ok)
	}
	for _, bad := range []string{"", "emergency call x", "login 42", "emergency call 0 acknowledged"} {
		if _, ok := hotdesk.AckedCallID(bad); ok {
			t.Errorf("AckedCallID(%q) ok", bad)
		}
	}
}
