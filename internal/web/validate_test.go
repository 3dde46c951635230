package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

func TestDecode(t *testing.T) {
	type v struct {
		A string `json:"a"`
		B struct {
			C int `json:"c"`
		} `json:"b"`
	}
	for _, c := range []struct{ body, field string }{
		{`{"a":"x"}`, ""},
		{`{"a":1}`, "a"},
		{`{"b":{"c":"x"}}`, "b.c"},
		{`{"z":1}`, "z"},
		{`[1]`, ""},
		{`{"a":`, ""},
		{`{"a":"x"}x`, ""},
		{`nope`, ""},
	} {
		req := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		var x v
		_, err := decode(httptest.NewRecorder(), req, &x, false)
		if c.body == `{"a":"x"}` {
			if err != nil {
				t.Errorf("%s: %v", c.body, err)
			}
			continue
		}
		if hotdesk.ErrorCode(err) != hotdesk.EINVALID || hotdesk.ErrorField(err) != c.field {
			t.Errorf("decode %s: %v, want EINVALID field %q", c.body, err, c.field)
		}
	}
}

func TestStatusTable(t *testing.T) {
	for code, want := range map[string]int{
		hotdesk.EINVALID: 400, hotdesk.EUNAUTHORIZED: 401, hotdesk.EFORBIDDEN: 403, hotdesk.ENOTFOUND: 404,
		hotdesk.ECONFLICT: 409, hotdesk.ELOCKED: 423, hotdesk.EUNAVAILABLE: 503, hotdesk.EINTERNAL: 500,
	} {
		if got, _ := admin.Status(hotdesk.Errorf(code, "x")); got != want {
			t.Errorf("%s → %d, want %d", code, got, want)
		}
	}
	e := MustEnv(t)
	w := &statusWriter{ResponseWriter: httptest.NewRecorder()}
	r := httptest.NewRequest("GET", "/", nil)
	e.api.writeError(w, r, hotdesk.Errorf("weird", "x"))
	if w.status() != http.StatusInternalServerError {
		t.Errorf("unknown code → %d", w.status())
	}
}

func TestAuditFilterParse(t *testing.T) {
	q, _ := url.ParseQuery("extension=201&device=HD00001&kind=login,logout&kind=locked&since=2026-03-02T09:00:00%2B01:00&limit=5&offset=10&before_id=99")
	f, off, err := auditFilter(q)
	if err != nil {
		t.Fatal(err)
	}
	if f.Extension != "201" || f.Device != "HD00001" || len(f.Kinds) != 3 || f.Since.UTC().Hour() != 8 ||
		f.Limit != 5 || off != 10 || f.BeforeID != 99 {
		t.Fatalf("filter %+v offset %d", f, off)
	}
}
