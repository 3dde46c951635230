package web

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// mustEmergencyFixture creates site 1 (with desk HD00001, when it exists)
// and emergency call record 1.
func (e *env) mustEmergencyFixture(tb testing.TB) {
	tb.Helper()
	e.do("POST", "/api/v1/sites", `{"name":"Fixture","networks":["10.1.0.0/16"]}`).want(tb, 201, nil)
	c := &hotdesk.EmergencyCall{Time: e.clock.Now(), Device: "HD00001", Number: "112", Callback: "+31201234000"}
	if err := e.store.CreateEmergencyCall(context.Background(), c); err != nil || c.ID != 1 {
		tb.Fatalf("emergency call fixture: %v (id %d)", err, c.ID)
	}
}

func TestSitesCRUD(t *testing.T) {
	t.Parallel()
	e := MustEnv(t)
	desk := e.MustDesk()
	var s hotdesk.Site
	e.do("POST", "/api/v1/sites", `{"name":" Amsterdam ","location":{"country":"nl","a3":"Amsterdam","street":"Keizersgracht","house_no":"1"},
		"networks":["10.1.2.3/16"],"callback":"+31201234000","devices":["`+desk+`"]}`).want(t, 201, &s)
	if s.ID != 1 || s.Name != "Amsterdam" || s.Location.Country != "NL" || !slices.Equal(s.Networks, []string{"10.1.0.0/16"}) ||
		!slices.Equal(s.Devices, []string{desk}) {
		t.Fatalf("created %+v", s)
	}
	if e.auditCount(hotdesk.KindSiteChanged) != 1 {
		t.Error("create not audited")
	}
	var all []hotdesk.Site
	e.do("GET", "/api/v1/sites", "").want(t, 200, &all)
	if len(all) != 1 || all[0].Callback != "+31201234000" {
		t.Fatalf("list %+v", all)
	}
	e.do("PUT", "/api/v1/sites/1", `{"name":"Amsterdam","networks":["10.9.0.0/24"]}`).want(t, 200, &s)
	if len(s.Devices) != 0 || s.Networks[0] != "10.9.0.0/24" || s.Callback != "" {
		t.Errorf("put replaces every field: %+v", s)
	}
	e.do("GET", "/api/v1/sites/2", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("POST", "/api/v1/sites", `{"name":"Amsterdam"}`).wantErr(t, 409, hotdesk.ECONFLICT, "")
	e.do("POST", "/api/v1/sites", `{"name":"X","devices":["NOPE"]}`).wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("DELETE", "/api/v1/sites/1", "").want(t, 204, nil)
	e.do("DELETE", "/api/v1/sites/1", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	if e.auditCount(hotdesk.KindSiteChanged) != 3 {
		t.Errorf("site changes audited %d times, want 3", e.auditCount(hotdesk.KindSiteChanged))
	}
}

func TestSiteBadInputNamesEveryField(t *testing.T) {
	t.Parallel()
	e := MustEnv(t)
	r := e.do("POST", "/api/v1/sites", `{"name":"","networks":["10.1.0.0"],"trunk":"nope","callback":"0201234","location":{"country":"Netherlands"}}`)
	var b errorBody
	r.want(t, 400, &b)
	var fields []string
	for _, f := range b.Error.Errors {
		fields = append(fields, f.Field)
	}
	for _, want := range []string{"name", "networks", "trunk", "callback", "location.country"} {
		if !slices.Contains(fields, want) {
			t.Errorf("no error for %s: %s", want, r.Body)
		}
	}
	var all []hotdesk.Site
	e.do("GET", "/api/v1/sites", "").want(t, 200, &all)
	if len(all) != 0 {
		t.Errorf("a refused site was stored: %+v", all)
	}
}

// A site may name a trunk of settings.trunks; the further trunks' passwords
// are hidden like the default trunk's and kept when a GET is sent back.
func TestTrunksListAndSiteTrunk(t *testing.T) {
	t.Parallel()
	e := MustEnv(t)
	e.do("PUT", "/api/v1/settings", `{"trunks":[{"name":"utrecht","enabled":true,"proxy":"127.0.0.9:5060","password":"s3cret","sources":["127.0.0.9"]}]}`).want(t, 200, nil)
	r := e.do("GET", "/api/v1/settings", "")
	if strings.Contains(string(r.Body), "s3cret") || !strings.Contains(string(r.Body), `"password_set":true`) {
		t.Fatalf("trunk password shown or not marked set: %s", r.Body)
	}
	e.do("PUT", "/api/v1/settings", string(r.Body)).want(t, 200, nil)
	st, _ := e.store.GetSettings(context.Background())
	if len(st.Trunks) != 1 || st.Trunks[0].Password != "s3cret" {
		t.Fatalf("password not kept on a round trip: %+v", st.Trunks)
	}
	e.do("PUT", "/api/v1/settings", `{"trunks":[{"name":"a","proxy":"127.0.0.9:5060"},{"name":"a"},{"proxy":"x"}]}`).wantErr(t, 400, hotdesk.EINVALID, "trunks.1.name")
	e.do("POST", "/api/v1/sites", `{"name":"Utrecht","trunk":"utrecht"}`).want(t, 201, nil)
	e.do("POST", "/api/v1/sites", `{"name":"Other","trunk":"rotterdam"}`).wantErr(t, 400, hotdesk.EINVALID, "trunk")
}

func TestEmergencySettingsValidated(t *testing.T) {
	t.Parallel()
	e := MustEnv(t)
	var st hotdesk.Settings
	e.do("GET", "/api/v1/settings", "").want(t, 200, &st)
	if a := st.EmergencyAlerts; a.CallbackMinutes != 60 || a.TestNumber != "933" || a.EscalateMinutes != 3 {
		t.Errorf("defaults %+v", a)
	}
	e.do("PUT", "/api/v1/settings", `{"emergency":{"alert_extensions":["2x"]}}`).wantErr(t, 400, hotdesk.EINVALID, "emergency.alert_extensions")
	e.do("PUT", "/api/v1/settings", `{"emergency":{"test_number":"112"}}`).wantErr(t, 400, hotdesk.EINVALID, "emergency.test_number")
	e.do("PUT", "/api/v1/settings", `{"emergency":{"callback_minutes":-1}}`).wantErr(t, 400, hotdesk.EINVALID, "emergency.callback_minutes")
	e.do("PUT", "/api/v1/settings", `{"emergency":{"alert_extensions":["203"],"test_number":"933","callback_minutes":90}}`).want(t, 200, &st)
	if !slices.Equal(st.EmergencyAlerts.AlertExtensions, []string{"203"}) || st.EmergencyAlerts.CallbackMinutes != 90 {
		t.Errorf("saved %+v", st.EmergencyAlerts)
	}
}

// The first acknowledgement stands and is audited once, with who and how.
func TestEmergencyAckAuditedOnce(t *testing.T) {
	t.Parallel()
	e := MustEnv(t)
	e.MustDesk()
	e.mustEmergencyFixture(t)
	events, stop := e.bus.Subscribe(16)
	defer stop()
	var c hotdesk.EmergencyCall
	e.do("POST", "/api/v1/emergency-calls/1/ack", "").want(t, 200, &c)
	if c.AckedAt == nil || c.AckedBy != "api" || c.AckedVia != "api" {
		t.Fatalf("ack %+v", c)
	}
	e.do("POST", "/api/v1/emergency-calls/1/ack", "").want(t, 200, nil)
	if n := e.auditCount(hotdesk.KindEmergencyAck); n != 1 {
		t.Errorf("acks audited %d times, want 1", n)
	}
	if ev := <-events; ev.Kind != hotdesk.KindEmergencyAck || !strings.HasPrefix(ev.Detail, "emergency call 1 ") {
		t.Errorf("event %+v", ev)
	}
	var un []hotdesk.EmergencyCall
	e.do("GET", "/api/v1/emergency-calls?unacked=true", "").want(t, 200, &un)
	if len(un) != 0 {
		t.Errorf("unacked %+v", un)
	}
	e.do("POST", "/api/v1/emergency-calls/9/ack", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("GET", "/api/v1/emergency-calls?test=maybe", "").wantErr(t, 400, hotdesk.EINVALID, "test")
}
