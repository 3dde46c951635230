package console

import (
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// civicGap says what a device's structured address lacks for an emergency
// call: the PIDF-LO of a 112/911 call carries the desk's address, and a
// dispatcher needs at least the country, city, street and house number.
type civicGap struct {
	None    bool     // no structured address at all
	Missing []string // form labels of the missing required fields
}

// Badge is the short warning for lists.
func (g *civicGap) Badge() string {
	if g.None {
		return "no emergency address"
	}
	return "emergency address incomplete"
}

// civicCheck returns nil when loc has every field a dispatcher needs, and
// otherwise what is missing. Only whitespace counts as missing.
func civicCheck(loc hotdesk.Location) *civicGap {
	required := []struct{ label, v string }{
		{"Country", loc.Country}, {"City", loc.A3}, {"Street", loc.Street}, {"House number", loc.HouseNo},
	}
	g := &civicGap{}
	for _, f := range required {
		if strings.TrimSpace(f.v) == "" {
			g.Missing = append(g.Missing, f.label)
		}
	}
	if len(g.Missing) == 0 {
		return nil
	}
	g.None = true
	for _, v := range []string{loc.Country, loc.A1, loc.A3, loc.Street, loc.HouseNo, loc.Postcode,
		loc.Building, loc.Floor, loc.Room, loc.Seat} {
		if strings.TrimSpace(v) != "" {
			g.None = false
			break
		}
	}
	return g
}
