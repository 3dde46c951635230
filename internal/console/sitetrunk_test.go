package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// The site form picks the emergency trunk from the configured trunk names
// (a select); a name no longer configured stays visible, marked.
func TestSiteFormTrunkSelect(t *testing.T) {
	hs, c := newSignedIn(t)
	ctx := context.Background()
	hs.changeSettings(func(st *hotdesk.Settings) {
		st.Trunks = []hotdesk.Trunk{{Name: "site-b", Enabled: true, Proxy: "127.0.0.1:5080"}, {Name: "site-c", Enabled: true, Proxy: "127.0.0.1:5090"}}
	})
	mustContain(t, c.get("/sites"), 200, `<select name="trunk" id="f-trunk">`, `<option value="" selected>Default trunk</option>`,
		`<option value="site-b">site-b</option>`, `<option value="site-c">site-c</option>`, `href="/settings/trunks"`)
	mustContain(t, c.post("/sites", url.Values{"name": {"Utrecht"}, "trunk": {"gone"}}), http.StatusBadRequest,
		`id="err-trunk"`, `<option value="gone" selected>gone (not configured)</option>`)
	c.mustPost("/sites", url.Values{"name": {"Utrecht"}, "trunk": {"site-c"}})
	sites, _ := hs.store.ListSites(ctx)
	if len(sites) != 1 || sites[0].Trunk != "site-c" {
		t.Fatalf("sites %+v", sites)
	}
	mustContain(t, c.get(fmt.Sprintf("/sites/%d", sites[0].ID)), 200, `<option value="site-c" selected>site-c</option>`)
}
