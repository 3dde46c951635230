package web

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestWebhooks(t *testing.T) {
	e := MustEnv(t)
	var h webhookOut
	r := e.do("POST", "/api/v1/webhooks", `{"url":"http://127.0.0.1:9/hook","kinds":["login","logout"]}`).want(t, 201, &h)
	if h.ID == 0 || len(h.Secret) != 64 || !h.Enabled || len(h.Kinds) != 2 || r.Header.Get("Location") != "/api/v1/webhooks/"+strconv.FormatInt(h.ID, 10) {
		t.Fatalf("created %s", r.Body)
	}
	path := "/api/v1/webhooks/" + strconv.FormatInt(h.ID, 10)
	for _, p := range []string{path, "/api/v1/webhooks"} {
		b := e.do("GET", p, "").want(t, 200, nil).Body
		if strings.Contains(string(b), h.Secret) || strings.Contains(string(b), "secret") {
			t.Errorf("GET %s shows the secret: %s", p, b)
		}
	}

	// A login writes one pending delivery for this webhook (the outbox).
	e.MustUser("201")
	d := e.MustDesk()
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+d+`"}`).want(t, 201, nil)
	var ds []hotdesk.Delivery
	e.do("GET", path+"/deliveries?state=pending", "").want(t, 200, &ds)
	if len(ds) != 1 || ds[0].Webhook != h.ID || ds[0].Status != hotdesk.DeliveryPending {
		t.Fatalf("deliveries %+v", ds)
	}
	e.do("GET", path+"/deliveries?state=delivered", "").want(t, 200, &ds)
	if len(ds) != 0 {
		t.Fatalf("delivered %+v", ds)
	}
	e.do("GET", path+"/deliveries?state=lost", "").wantErr(t, 400, hotdesk.EINVALID, "state")
	e.do("GET", "/api/v1/webhooks/99/deliveries", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")

	var p webhookOut
	e.do("PATCH", path, `{"enabled":false,"kinds":"login"}`).wantErr(t, 400, hotdesk.EINVALID, "kinds")
	e.do("PATCH", path, `{"enabled":false}`).want(t, 200, &p)
	if p.Enabled || p.URL != h.URL || len(p.Kinds) != 2 || p.Secret != "" {
		t.Fatalf("patched %+v", p)
	}
	e.do("PATCH", path, `{"url":"http://example.com/x"}`).wantErr(t, 400, hotdesk.EINVALID, "url")
	e.do("DELETE", path, "").want(t, 204, nil)
	e.do("GET", path, "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("GET", "/api/v1/webhooks/x", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	if n := e.auditCount(hotdesk.KindSettings); n != 3 {
		t.Errorf("webhook changes audited %d times, want 3", n)
	}
}

func TestWebhookValidation(t *testing.T) {
	e := MustEnv(t)
	for _, c := range []struct{ body, field string }{
		{`{}`, "url"},
		{`{"url":"ftp://example.com/"}`, "url"},
		{`{"url":"http://example.com/hook"}`, "url"},
		{`{"url":"http://10.0.0.1/hook"}`, "url"},
		{`{"url":"/relative"}`, "url"},
		{`{"url":"https://example.com/hook","kinds":["login","dance"]}`, "kinds"},
		{`{"url":"https://example.com/hook","enabled":"yes"}`, "enabled"},
		{`{"url":"https://example.com/hook","secret":"mine"}`, "secret"},
	} {
		e.do("POST", "/api/v1/webhooks", c.body).wantErr(t, 400, hotdesk.EINVALID, c.field)
	}
	var hs []webhookOut
	e.do("GET", "/api/v1/webhooks", "").want(t, 200, &hs)
	if len(hs) != 0 {
		t.Fatalf("bad creates left %+v", hs)
	}
	for _, u := range []string{"https://hooks.example.com/x", "http://localhost:8080/x", "http://[::1]:9/x"} {
		e.do("POST", "/api/v1/webhooks", `{"url":"`+u+`"}`).want(t, 201, nil)
	}
}

// TestWebhookErrorsAtOnce: webhooks change through the admin service, as
// in the console, so a body with a bad url and bad kinds names both (like
// users and devices), on create and on PATCH, and changes nothing.
func TestWebhookErrorsAtOnce(t *testing.T) {
	t.Parallel()
	e := MustEnv(t)
	bad := `{"url":"ftp://example.com/","kinds":["login","dance"]}`
	for _, req := range []struct{ method, path string }{{"POST", "/api/v1/webhooks"}, {"PATCH", ""}} {
		if req.path == "" {
			var h webhookOut
			e.do("POST", "/api/v1/webhooks", `{"url":"http://127.0.0.1:9/hook"}`).want(t, 201, &h)
			req.path = "/api/v1/webhooks/" + strconv.FormatInt(h.ID, 10)
		}
		got := e.do(req.method, req.path, bad).wantErr(t, 400, hotdesk.EINVALID, "url")
		if len(got.Errors) != 2 || got.Errors[1].Field != "kinds" {
			t.Errorf("%s %s: errors %+v, want url and kinds", req.method, req.path, got.Errors)
		}
	}
	var hs []webhookOut
	e.do("GET", "/api/v1/webhooks", "").want(t, 200, &hs)
	if len(hs) != 1 || hs[0].URL != "http://127.0.0.1:9/hook" || len(hs[0].Kinds) != 0 {
		t.Fatalf("bad requests changed the webhooks: %+v", hs)
	}
}
