package console

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestCivicCheck(t *testing.T) {
	t.Parallel()
	full := hotdesk.Location{Text: "Amsterdam 3rd floor", Country: "NL", A3: "Amsterdam", Street: "Keizersgracht", HouseNo: "123"}
	tests := []struct {
		name    string
		loc     hotdesk.Location
		none    bool
		missing []string // nil: complete
	}{
		{"complete", full, false, nil},
		{"complete with extras", hotdesk.Location{Country: "NL", A1: "NH", A3: "Amsterdam", Street: "Keizersgracht", HouseNo: "1a", Postcode: "1015", Floor: "3", Room: "301", Seat: "7"}, false, nil},
		{"empty", hotdesk.Location{}, true, []string{"Country", "City", "Street", "House number"}},
		{"text only", hotdesk.Location{Text: "Amsterdam 3rd floor"}, true, []string{"Country", "City", "Street", "House number"}},
		{"floor only", hotdesk.Location{Floor: "3"}, false, []string{"Country", "City", "Street", "House number"}},
		{"no house number", func() hotdesk.Location { l := full; l.HouseNo = ""; return l }(), false, []string{"House number"}},
		{"no country", func() hotdesk.Location { l := full; l.Country = ""; return l }(), false, []string{"Country"}},
		{"city blank", func() hotdesk.Location { l := full; l.A3 = "  "; return l }(), false, []string{"City"}},
		{"no street", func() hotdesk.Location { l := full; l.Street = ""; return l }(), false, []string{"Street"}},
		{"state is not city", hotdesk.Location{Country: "NL", A1: "Noord-Holland", Street: "Dam", HouseNo: "1"}, false, []string{"City"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := civicCheck(tt.loc)
			if tt.missing == nil {
				if g != nil {
					t.Fatalf("complete address reported as %+v", g)
				}
				return
			}
			if g == nil {
				t.Fatalf("got complete, want missing %v", tt.missing)
			}
			if g.None != tt.none || !slices.Equal(g.Missing, tt.missing) {
				t.Fatalf("got none=%v missing=%v, want none=%v missing=%v", g.None, g.Missing, tt.none, tt.missing)
			}
		})
	}
}

func TestEmergencyAddressWarnings(t *testing.T) {
	hs, c := newSignedIn(t)
	full := hotdesk.Location{Text: "Floor 3", Country: "NL", A3: "Amsterdam", Street: "Keizersgracht", HouseNo: "123"}
	partial := full
	partial.HouseNo = ""
	for _, d := range []*hotdesk.Device{
		{ID: "HDOK", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelSnom, Location: full},
		{ID: "HDHALF", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelSnom, Location: partial},
		{ID: "HDNONE", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelSnom, Location: hotdesk.Location{Text: "Lobby"}},
	} {
		hs.addDevice(d)
	}
	for _, path := range []string{"/", "/devices"} {
		body := c.get(path).Body.String()
		for id, want := range map[string]string{"HDOK": "", "HDHALF": "emergency address incomplete", "HDNONE": "no emergency address"} {
			row := rowOf(t, body, id)
			if want == "" {
				if strings.Contains(row, "civic-missing") {
					t.Errorf("%s: complete %s warned: %s", path, id, row)
				}
				continue
			}
			if !strings.Contains(row, want) || !strings.Contains(row, `href="/devices/`+id+`#emergency-address"`) {
				t.Errorf("%s: row of %s lacks %q: %s", path, id, want, row)
			}
		}
	}
	w := c.get("/devices/HDHALF")
	mustContain(t, w, http.StatusOK, "Emergency address incomplete", "Missing: <strong>House number</strong>", `href="#emergency-address"`, `id="emergency-address"`)
	mustContain(t, c.get("/devices/HDNONE"), http.StatusOK, "No emergency address", "Country, City, Street, House number")
	if b := c.get("/devices/HDOK").Body.String(); strings.Contains(b, "civic-warning") || !strings.Contains(b, `id="emergency-address"`) {
		t.Fatal("complete device warned, or the form section has no anchor")
	}
}

// rowOf returns the table row that links to device id.
func rowOf(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `href="/devices/`+id+`"`)
	if i < 0 {
		t.Fatalf("no row for %s", id)
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	return body[start : i+end]
}
