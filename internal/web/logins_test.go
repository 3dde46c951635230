package web

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestLoginRoamAndReplace(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	e.MustUser("202")
	a, b := e.MustDesk(), e.MustDesk()

	var c createdLogin
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+a+`"}`).want(t, 201, &c)
	if c.Extension != "201" || c.Device != a || c.Via != hotdesk.ViaAPI || len(c.Ended) != 0 {
		t.Fatalf("login %+v", c)
	}
	// Roaming: 201 moves to b and leaves a.
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+b+`"}`).want(t, 201, &c)
	if len(c.Ended) != 1 || c.Ended[0].Device != a || c.Ended[0].Reason != hotdesk.ReasonRoamed {
		t.Fatalf("roam ended %+v", c.Ended)
	}
	// Identity switch: 202 takes b from 201.
	e.do("POST", "/api/v1/logins", `{"extension":"202","device":"`+b+`"}`).want(t, 201, &c)
	if len(c.Ended) != 1 || c.Ended[0].Extension != "201" || c.Ended[0].Reason != hotdesk.ReasonReplaced {
		t.Fatalf("replace ended %+v", c.Ended)
	}
	var ls []loginOut
	e.do("GET", "/api/v1/logins", "").want(t, 200, &ls)
	if len(ls) != 1 || ls[0].Extension != "202" || ls[0].Device != b || !ls[0].Since.Equal(e.clock.Now()) {
		t.Fatalf("logins %+v", ls)
	}
	var u userOut
	e.do("GET", "/api/v1/users/202", "").want(t, 200, &u)
	if u.LoggedInDevice == nil || *u.LoggedInDevice != b {
		t.Fatalf("logged_in_device %v", u.LoggedInDevice)
	}
	es, err := e.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogin}})
	if err != nil || len(es) != 3 || es[0].Source != Source || es[0].Reason != hotdesk.ViaAPI {
		t.Fatalf("login audits %+v %v", es, err)
	}
}

func TestLoginErrors(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	e.do("POST", "/api/v1/users", `{"extension":"209","name":"No desk","hotdesk":false}`).want(t, 201, nil)
	d := e.MustDesk()
	e.do("POST", "/api/v1/devices", `{"id":"soft-201","mode":"personal","owner":"201"}`).want(t, 201, nil)
	for _, c := range []struct {
		body, code, field string
		status            int
	}{
		{`{"device":"` + d + `"}`, hotdesk.EINVALID, "extension", 400},
		{`{"extension":"201"}`, hotdesk.EINVALID, "device", 400},
		{`{"extension":"2x1","device":"` + d + `"}`, hotdesk.EINVALID, "extension", 400},
		{`{"extension":"201","device":"` + d + `","pin":"1234"}`, hotdesk.EINVALID, "pin", 400},
		{`{"extension":"299","device":"` + d + `"}`, hotdesk.ENOTFOUND, "extension", 404},
		{`{"extension":"201","device":"HD00099"}`, hotdesk.ENOTFOUND, "device", 404},
		{`{"extension":"209","device":"` + d + `"}`, hotdesk.EFORBIDDEN, "extension", 403},
		{`{"extension":"201","device":"soft-201"}`, hotdesk.EFORBIDDEN, "device", 403},
	} {
		e.do("POST", "/api/v1/logins", c.body).wantErr(t, c.status, c.code, c.field)
	}
	// A user locked after PIN failures gets 423 and stays out.
	until := e.clock.Now().Add(15 * time.Minute)
	p := &until
	if _, err := e.store.UpdateUser(context.Background(), "201", hotdesk.UserUpdate{LockedUntil: &p}); err != nil {
		t.Fatal(err)
	}
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+d+`"}`).wantErr(t, 423, hotdesk.ELOCKED, "")
	var ls []loginOut
	e.do("GET", "/api/v1/logins", "").want(t, 200, &ls)
	if len(ls) != 0 {
		t.Fatalf("failed logins left %+v", ls)
	}
	e.do("POST", "/api/v1/users/201/unlock", "").want(t, 204, nil)
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+d+`"}`).want(t, 201, nil)
}

func TestLogouts(t *testing.T) {
	e := MustEnv(t)
	for _, ext := range []string{"201", "202", "203"} {
		e.MustUser(ext)
	}
	d1, d2, d3 := e.MustDesk(), e.MustDesk(), e.MustDesk()
	for ext, d := range map[string]string{"201": d1, "202": d2, "203": d3} {
		e.do("POST", "/api/v1/logins", `{"extension":"`+ext+`","device":"`+d+`"}`).want(t, 201, nil)
	}
	var l loginOut
	e.do("POST", "/api/v1/users/201/logout", "").want(t, 200, &l)
	if l.Extension != "201" || l.Device != d1 {
		t.Fatalf("user logout %+v", l)
	}
	e.do("POST", "/api/v1/users/201/logout", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("POST", "/api/v1/users/299/logout", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("POST", "/api/v1/devices/"+d2+"/logout", "").want(t, 200, &l)
	if l.Extension != "202" {
		t.Fatalf("device logout %+v", l)
	}
	e.do("POST", "/api/v1/devices/"+d2+"/logout", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("POST", "/api/v1/devices/HD00099/logout", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")

	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+d1+`"}`).want(t, 201, nil)
	var ended []loginOut
	e.do("DELETE", "/api/v1/logins", "").want(t, 200, &ended)
	if len(ended) != 2 {
		t.Fatalf("logout all ended %+v", ended)
	}
	var ls []loginOut
	e.do("GET", "/api/v1/logins", "").want(t, 200, &ls)
	if len(ls) != 0 {
		t.Fatalf("after logout all: %+v", ls)
	}
	es, err := e.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}})
	if err != nil || len(es) != 4 {
		t.Fatalf("logout audits %d %v", len(es), err)
	}
	for _, a := range es {
		if a.Reason != hotdesk.ReasonAdmin || a.Source != Source {
			t.Errorf("logout audit %+v", a)
		}
	}
	// Deleting a logged-in user ends the login with reason deleted.
	e.do("POST", "/api/v1/logins", `{"extension":"203","device":"`+d3+`"}`).want(t, 201, nil)
	e.do("DELETE", "/api/v1/users/203", "").want(t, 204, nil)
	es, _ = e.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}, Limit: 1})
	if len(es) != 1 || es[0].Reason != hotdesk.ReasonDeleted || es[0].Extension != "203" {
		t.Fatalf("delete logout audit %+v", es)
	}
}

func TestHotdeskOffEndsLogin(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	a := e.MustDesk()
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+a+`"}`).want(t, 201, nil)
	e.do("PATCH", "/api/v1/users/201", `{"name":"Still here"}`).want(t, 200, nil)
	if _, err := e.store.LoginByUser(context.Background(), "201"); err != nil {
		t.Fatalf("a rename ended the login: %v", err)
	}
	var u userOut
	e.do("PATCH", "/api/v1/users/201", `{"hotdesk":false}`).want(t, 200, &u)
	if u.LoggedInDevice != nil {
		t.Fatalf("user still shown at %s after hot desking was switched off", *u.LoggedInDevice)
	}
	if _, err := e.store.LoginByUser(context.Background(), "201"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("login after hot desking off: %v", err)
	}
	es, err := e.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}})
	if err != nil || len(es) != 1 || es[0].Reason != hotdesk.ReasonAdmin || es[0].Source != Source {
		t.Fatalf("logout audit %+v, %v", es, err)
	}
}
