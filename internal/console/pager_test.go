package console

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestUsersAndDevicesPager: the users and devices lists link to the
// neighbouring pages of 50, keeping the search and the mode filter.
func TestUsersAndDevicesPager(t *testing.T) {
	hs, c := newSignedIn(t)
	for i := range pageSize + 1 {
		hs.addUser(&hotdesk.User{Extension: fmt.Sprint(300 + i), Name: "Ann", Outbound: "national"})
		hs.addDevice(&hotdesk.Device{Model: "snom", Mode: hotdesk.ModeHotdesk})
	}
	for _, p := range []struct{ first, next, second, prev string }{
		{"/users?q=ann", `href="/users?q=ann&amp;offset=50">Next`, "/users?q=ann&offset=50", `href="/users?q=ann&amp;offset=0">← Previous`},
		{"/devices?mode=hotdesk", `href="/devices?q=&amp;mode=hotdesk&amp;offset=50">Next`, "/devices?mode=hotdesk&offset=50",
			`href="/devices?q=&amp;mode=hotdesk&amp;offset=0">← Previous`},
	} {
		mustContain(t, c.get(p.first), http.StatusOK, p.next)
		w := c.get(p.second)
		mustContain(t, w, http.StatusOK, p.prev)
		if strings.Contains(w.Body.String(), "Next →") {
			t.Errorf("%s links to a next page", p.second)
		}
	}
}
