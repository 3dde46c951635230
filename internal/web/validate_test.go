package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestUserCheck(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		name   string
		in     userIn
		create bool
		field  string
	}{
		{"ok", userIn{Extension: s("201"), Name: s("A")}, true, ""},
		{"no extension", userIn{Name: s("A")}, true, "extension"},
		{"short extension", userIn{Extension: s("2"), Name: s("A")}, true, "extension"},
		{"long extension", userIn{Extension: s("1234567"), Name: s("A")}, true, "extension"},
		{"no name on create", userIn{Extension: s("201")}, true, "name"},
		{"blank name", userIn{Extension: s("201"), Name: s("  ")}, true, "name"},
		{"patch without name", userIn{Voicemail: new(bool)}, false, ""},
		{"email", userIn{Email: s("a@b")}, false, ""},
		{"bad email", userIn{Email: s("Fien <f@x.nl>")}, false, "email"},
		{"pin letters", userIn{PIN: s("12a4")}, false, "pin"},
		{"pin long", userIn{PIN: s("123456789")}, false, "pin"},
		{"pin 8", userIn{PIN: s("12345678")}, false, ""},
		{"e164 short", userIn{CallerID: s("+3120123")}, false, "caller_id"},
		{"e164 8 digits", userIn{CallerID: s("+31201234")}, false, ""},
		{"e164 15 digits", userIn{CallerID: s("+312012345678901")}, false, ""},
		{"e164 16 digits", userIn{CallerID: s("+3120123456789012")}, false, "caller_id"},
		{"e164 no plus", userIn{CallerID: s("31201234567")}, false, "caller_id"},
		{"empty caller id", userIn{CallerID: s("")}, false, ""},
		{"dup dids", userIn{DIDs: &[]string{"+31201234567", "+31201234567"}}, false, "dids"},
		{"outbound", userIn{Outbound: s("local")}, false, "outbound"},
		{"blf", userIn{BLF: &[]string{"201", "abc"}}, false, "blf"},
		{"speed dial", userIn{SpeedDials: &[]hotdesk.SpeedDial{{Label: "x", Number: "12 34"}}}, false, "speed_dials"},
		{"first error wins", userIn{Email: s("x"), Outbound: s("y")}, false, "email"},
	} {
		err := c.in.check(c.create)
		if hotdesk.ErrorField(err) != c.field || (c.field == "") != (err == nil) {
			t.Errorf("%s: %v, want field %q", c.name, err, c.field)
		}
	}
}

func TestSettingsCheckDefaults(t *testing.T) {
	if err := checkSettings(hotdesk.DefaultSettings()); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

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
		if statusOf[code] != want {
			t.Errorf("%s → %d, want %d", code, statusOf[code], want)
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
