package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// The trunks page adds, edits and removes further named trunks: bad rows
// are named on their own fields, passwords are never echoed and kept when
// left empty, the default trunk and the other settings are kept, and a
// trunk a site names cannot be removed or renamed from under it.
func TestTrunksPage(t *testing.T) {
	hs, c := newSignedIn(t)
	ctx := context.Background()
	hs.changeSettings(func(st *hotdesk.Settings) {
		st.Trunk = hotdesk.Trunk{Enabled: true, Proxy: "127.0.0.1:5070", Password: "default-pw", Transport: "udp"}
		st.EmergencyAlerts.AlertExtensions = []string{"201"}
	})
	mustContain(t, c.get("/settings/trunks"), 200, `<legend>New trunk</legend>`, `name="rows" value="1"`, `id="f-t0_name"`)

	// Add two; the second is bad on two fields and the first's name is taken twice.
	add := url.Values{"rows": {"3"},
		"t0_name": {"site-b"}, "t0_enabled": {"on"}, "t0_proxy": {"127.0.0.1:5080"}, "t0_transport": {"udp"}, "t0_password": {"pw-b"},
		"t1_name": {"site-b"}, "t1_enabled": {"on"}, "t1_proxy": {""}, "t1_transport": {"sctp"}, "t1_password": {"pw-c"},
		"t2_transport": {"udp"}, "t2_enabled": {"on"}} // the empty new row
	w := c.post("/settings/trunks", add)
	mustContain(t, w, http.StatusBadRequest, `id="err-t1_name"`, `is used twice`, `id="err-t1_proxy"`, `id="err-t1_transport"`)
	if strings.Contains(w.Body.String(), "pw-b") || strings.Contains(w.Body.String(), "pw-c") {
		t.Fatal("trunk password echoed")
	}
	if s, _ := hs.store.GetSettings(ctx); len(s.Trunks) != 0 {
		t.Fatalf("invalid trunks stored: %+v", s.Trunks)
	}
	add.Set("t1_name", "site-c")
	add.Set("t1_proxy", "127.0.0.1:5090")
	add.Set("t1_transport", "tcp")
	c.mustPost("/settings/trunks", add)
	s, _ := hs.store.GetSettings(ctx)
	if len(s.Trunks) != 2 || s.Trunks[0].Name != "site-b" || s.Trunks[0].Password != "pw-b" || s.Trunks[1].Name != "site-c" ||
		s.Trunks[1].Transport != "tcp" || s.Trunk.Password != "default-pw" || len(s.EmergencyAlerts.AlertExtensions) != 1 {
		t.Fatalf("stored: %+v", s)
	}
	w = c.get("/settings/trunks")
	mustContain(t, w, 200, `name="rows" value="3"`, `name="t0_orig" value="site-b"`, `value="127.0.0.1:5090"`,
		`<option value="tcp" selected>TCP</option>`, "set; empty keeps it")
	if strings.Contains(w.Body.String(), "pw-b") {
		t.Fatal("trunk password echoed")
	}

	// A site names site-b: it cannot be removed nor renamed.
	if _, err := hs.con.admin.CreateSite(ctx, "test", hotdesk.Site{Name: "Utrecht", Trunk: "site-b"}); err != nil {
		t.Fatal(err)
	}
	edit := url.Values{"rows": {"3"},
		"t0_orig": {"site-b"}, "t0_name": {"site-b"}, "t0_enabled": {"on"}, "t0_proxy": {"127.0.0.1:5080"}, "t0_transport": {"udp"}, "t0_remove": {"on"},
		"t1_orig": {"site-c"}, "t1_name": {"site-c"}, "t1_enabled": {"on"}, "t1_proxy": {"127.0.0.1:5091"}, "t1_transport": {"tcp"},
		"t2_transport": {"udp"}}
	mustContain(t, c.post("/settings/trunks", edit), http.StatusBadRequest, `id="err-t0_remove"`, "Site Utrecht")
	edit.Del("t0_remove")
	edit.Set("t0_name", "site-x")
	mustContain(t, c.post("/settings/trunks", edit), http.StatusBadRequest, `id="err-t0_name"`, "Site Utrecht")
	// Edit site-b (empty password kept) and remove site-c.
	edit.Set("t0_name", "site-b")
	edit.Set("t0_proxy", "127.0.0.1:5081")
	edit.Set("t1_remove", "on")
	c.mustPost("/settings/trunks", edit)
	s, _ = hs.store.GetSettings(ctx)
	if len(s.Trunks) != 1 || s.Trunks[0].Proxy != "127.0.0.1:5081" || s.Trunks[0].Password != "pw-b" {
		t.Fatalf("after edit and remove: %+v", s.Trunks)
	}
}
