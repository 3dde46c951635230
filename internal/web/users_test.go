package web

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

func TestUserCRUD(t *testing.T) {
	e := MustEnv(t)
	var u userOut
	r := e.do("POST", "/api/v1/users", `{"extension":"210","name":"Fien","email":"fien@example.com","hotdesk":true,
		"pin":"4321","caller_id":"+31201234567","dids":["+31201234500"],"outbound":"international","blf":["201","202"],"voicemail":true}`)
	r.want(t, 201, &u)
	if r.Header.Get("Location") != "/api/v1/users/210" {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	if u.Extension != "210" || u.Name != "Fien" || !u.Hotdesk || !u.HasPIN || u.Outbound != "international" ||
		len(u.DIDs) != 1 || len(u.BLF) != 2 || !u.Voicemail || u.LoggedInDevice != nil {
		t.Fatalf("created %+v", u)
	}
	if strings.Contains(string(r.Body), "4321") || strings.Contains(string(r.Body), `"pin"`) {
		t.Fatalf("PIN in response: %s", r.Body)
	}

	var got userOut
	e.do("GET", "/api/v1/users/210", "").want(t, 200, &got)
	if got.Email != "fien@example.com" || got.CallerID != "+31201234567" {
		t.Fatalf("got %+v", got)
	}

	// PATCH changes only the given fields.
	e.do("PATCH", "/api/v1/users/210", `{"name":"Fien de Vries","blf":[]}`).want(t, 200, &got)
	if got.Name != "Fien de Vries" || len(got.BLF) != 0 || got.Email != "fien@example.com" || !got.Hotdesk || len(got.DIDs) != 1 {
		t.Fatalf("patched %+v", got)
	}

	var list []userOut
	r = e.do("GET", "/api/v1/users?search=fien", "").want(t, 200, &list)
	if len(list) != 1 || r.Header.Get("X-Total-Count") != "1" {
		t.Fatalf("list %+v total %s", list, r.Header.Get("X-Total-Count"))
	}
	if n := e.auditCount(hotdesk.KindUserChanged); n != 2 {
		t.Errorf("user_changed audits = %d, want 2 (create, patch)", n)
	}

	e.do("DELETE", "/api/v1/users/210", "").want(t, 204, nil)
	e.do("GET", "/api/v1/users/210", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("DELETE", "/api/v1/users/210", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("PATCH", "/api/v1/users/210", `{"name":"x"}`).wantErr(t, 404, hotdesk.ENOTFOUND, "")
}

func TestUserListPaging(t *testing.T) {
	e := MustEnv(t)
	for _, ext := range []string{"201", "202", "203"} {
		e.MustUser(ext)
	}
	var list []userOut
	r := e.do("GET", "/api/v1/users?offset=1&limit=1", "").want(t, 200, &list)
	if len(list) != 1 || list[0].Extension != "202" || r.Header.Get("X-Total-Count") != "3" {
		t.Fatalf("page %+v total %s", list, r.Header.Get("X-Total-Count"))
	}
	e.do("GET", "/api/v1/users?limit=0", "").wantErr(t, 400, hotdesk.EINVALID, "limit")
	e.do("GET", "/api/v1/users?offset=-1", "").wantErr(t, 400, hotdesk.EINVALID, "offset")
}

func TestUserConflicts(t *testing.T) {
	e := MustEnv(t)
	e.do("POST", "/api/v1/users", `{"extension":"201","name":"A","dids":["+31201234500"]}`).want(t, 201, nil)
	e.do("POST", "/api/v1/users", `{"extension":"201","name":"B"}`).wantErr(t, 409, hotdesk.ECONFLICT, "extension")
	e.do("POST", "/api/v1/users", `{"extension":"202","name":"B","dids":["+31201234500"]}`).wantErr(t, 409, hotdesk.ECONFLICT, "dids")
	// Nothing half-written: 202 does not exist after its failed create.
	e.do("GET", "/api/v1/users/202", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.MustUser("203")
	e.do("PATCH", "/api/v1/users/203", `{"name":"C2","dids":["+31201234500"]}`).wantErr(t, 409, hotdesk.ECONFLICT, "dids")
	var u userOut
	e.do("GET", "/api/v1/users/203", "").want(t, 200, &u)
	if u.Name != "User 203" || len(u.DIDs) != 0 {
		t.Fatalf("failed PATCH changed the user: %+v", u)
	}
}

func TestUserBadInputChangesNothing(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	before := e.auditCount(hotdesk.KindUserChanged)
	for _, c := range []struct{ body, field string }{
		{`{"name":"x","outbound":"galactic"}`, "outbound"},
		{`{"name":"x","email":"nope"}`, "email"},
		{`{"pin":"12"}`, "pin"},
		{`{"caller_id":"0201234567"}`, "caller_id"},
		{`{"dids":["+31201234500","12"]}`, "dids"},
		{`{"blf":["2"]}`, "blf"},
		{`{"name":""}`, "name"},
		{`{"extension":"299"}`, "extension"},
		{`{"colour":"red"}`, "colour"},
		{`{"hotdesk":"yes"}`, "hotdesk"},
		{`{"ring_timeout":2}`, "ring_timeout"},
	} {
		e.do("PATCH", "/api/v1/users/201", c.body).wantErr(t, 400, hotdesk.EINVALID, c.field)
	}
	var u userOut
	e.do("GET", "/api/v1/users/201", "").want(t, 200, &u)
	if u.Name != "User 201" || u.Outbound != "national" || u.Email != "" || len(u.BLF) != 0 {
		t.Fatalf("bad PATCHes changed the user: %+v", u)
	}
	if n := e.auditCount(hotdesk.KindUserChanged); n != before {
		t.Errorf("bad PATCHes wrote %d audit rows", n-before)
	}
	e.do("POST", "/api/v1/users", `{"extension":"1","name":"x"}`).wantErr(t, 400, hotdesk.EINVALID, "extension")
	e.do("POST", "/api/v1/users", `{"name":"x"}`).wantErr(t, 400, hotdesk.EINVALID, "extension")
	e.do("POST", "/api/v1/users", `{"extension":"205"}`).wantErr(t, 400, hotdesk.EINVALID, "name")
	e.do("POST", "/api/v1/users", ``).wantErr(t, 400, hotdesk.EINVALID, "")
	e.do("POST", "/api/v1/users", `{"extension":"205","name":"x"} {}`).wantErr(t, 400, hotdesk.EINVALID, "")
	e.do("POST", "/api/v1/users", `{"extension":"205","name":"`+strings.Repeat("x", 1<<20)+`"}`).wantErr(t, 400, hotdesk.EINVALID, "")
	e.do("GET", "/api/v1/users/205", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
}

func TestUserPIN(t *testing.T) {
	e := MustEnv(t)
	e.do("POST", "/api/v1/users", `{"extension":"201","name":"A","hotdesk":true,"pin":"24680"}`).want(t, 201, nil)
	ctx := context.Background()
	u, err := e.store.FindUser(ctx, "201")
	if err != nil {
		t.Fatal(err)
	}
	if !desk.CheckPIN(u.PINHash, "24680") || strings.Contains(u.PINHash, "24680") {
		t.Fatalf("created PIN not hashed the desk way: %q", u.PINHash)
	}

	e.do("POST", "/api/v1/users/201/pin", `{"pin":"4321"}`).want(t, 204, nil)
	u, _ = e.store.FindUser(ctx, "201")
	if !desk.CheckPIN(u.PINHash, "4321") {
		t.Fatal("PIN not set")
	}
	if es, err := e.store.FindAudit(ctx, hotdesk.AuditFilter{Extension: "201", Limit: 1}); err != nil || len(es) != 1 || es[0].Detail != "pin changed" || es[0].Source != Source {
		t.Fatalf("PIN change audit: %+v, %v", es, err)
	}
	e.do("POST", "/api/v1/users/201/pin", `{"pin":"43a1"}`).wantErr(t, 400, hotdesk.EINVALID, "pin")
	e.do("POST", "/api/v1/users/201/pin", `{"pin":""}`).wantErr(t, 400, hotdesk.EINVALID, "pin")
	u, _ = e.store.FindUser(ctx, "201")
	if !desk.CheckPIN(u.PINHash, "4321") {
		t.Fatal("a bad PIN request changed the PIN")
	}

	// An empty request never replaces the PIN: generating is asked for.
	e.do("POST", "/api/v1/users/201/pin", "").wantErr(t, 400, hotdesk.EINVALID, "")
	e.do("POST", "/api/v1/users/201/pin", "{}").wantErr(t, 400, hotdesk.EINVALID, "pin")
	e.do("POST", "/api/v1/users/201/pin", `{"generate":false}`).wantErr(t, 400, hotdesk.EINVALID, "pin")
	e.do("POST", "/api/v1/users/201/pin", `{"generate":true,"pin":"1234"}`).wantErr(t, 400, hotdesk.EINVALID, "pin")
	u, _ = e.store.FindUser(ctx, "201")
	if !desk.CheckPIN(u.PINHash, "4321") {
		t.Fatal("an empty PIN request changed the PIN")
	}
	var gen struct{ PIN string }
	e.do("POST", "/api/v1/users/201/pin", `{"generate":true}`).want(t, 200, &gen)
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(gen.PIN) {
		t.Fatalf("generated PIN %q", gen.PIN)
	}
	u, _ = e.store.FindUser(ctx, "201")
	if !desk.CheckPIN(u.PINHash, gen.PIN) {
		t.Fatal("generated PIN not stored")
	}
	var gen2 struct{ PIN string }
	e.do("POST", "/api/v1/users/201/pin", `{"generate":true}`).want(t, 200, &gen2)
	e.do("POST", "/api/v1/users/299/pin", `{"generate":true}`).wantErr(t, 404, hotdesk.ENOTFOUND, "")

	// PATCH may set the PIN too.
	e.do("PATCH", "/api/v1/users/201", `{"pin":"97531"}`).want(t, 200, nil)
	u, _ = e.store.FindUser(ctx, "201")
	if !desk.CheckPIN(u.PINHash, "97531") {
		t.Fatal("PATCH pin not set")
	}

	// The generated PIN was in its response only: not in later reads, not
	// in the audit trail, not in the log.
	for _, path := range []string{"/api/v1/users/201", "/api/v1/users", "/api/v1/audit"} {
		b := string(e.do("GET", path, "").want(t, 200, nil).Body)
		for _, pin := range []string{gen.PIN, gen2.PIN, "4321", "24680", "97531"} {
			if strings.Contains(b, pin) {
				t.Errorf("GET %s shows PIN %s: %s", path, pin, b)
			}
		}
	}
	logs := e.logs.String()
	for _, pin := range []string{gen.PIN, gen2.PIN, "4321", "24680", "97531", "43a1"} {
		if strings.Contains(logs, pin) {
			t.Errorf("log holds PIN %s:\n%s", pin, logs)
		}
	}
}

func TestUserUnlockAndCalls(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	ctx := context.Background()
	until := e.clock.Now().Add(10 * time.Minute)
	p := &until
	if _, err := e.store.UpdateUser(ctx, "201", hotdesk.UserUpdate{LockedUntil: &p}); err != nil {
		t.Fatal(err)
	}
	var u userOut
	e.do("GET", "/api/v1/users/201", "").want(t, 200, &u)
	if u.LockedUntil == nil || !u.LockedUntil.Equal(until) {
		t.Fatalf("locked_until %v, want %v", u.LockedUntil, until)
	}
	e.do("POST", "/api/v1/users/201/unlock", "").want(t, 204, nil)
	e.do("GET", "/api/v1/users/201", "").want(t, 200, &u)
	if u.LockedUntil != nil {
		t.Fatalf("still locked until %v", u.LockedUntil)
	}
	e.do("POST", "/api/v1/users/299/unlock", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")

	start := e.clock.Now()
	if err := e.store.CreateCall(ctx, &hotdesk.CallRecord{CallID: "c1", Extension: "201", Direction: hotdesk.DirectionOutbound,
		Peer: "202", Device: "HD00001", Start: start, Result: hotdesk.ResultAnswered}); err != nil {
		t.Fatal(err)
	}
	var calls []hotdesk.CallRecord
	e.do("GET", "/api/v1/users/201/calls", "").want(t, 200, &calls)
	if len(calls) != 1 || calls[0].Peer != "202" {
		t.Fatalf("calls %+v", calls)
	}
	e.do("GET", "/api/v1/users/299/calls", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("GET", "/api/v1/users/201/calls?limit=x", "").wantErr(t, 400, hotdesk.EINVALID, "limit")
}

// TestDeleteUserOwningPhones: deleting a user who owns personal phones is
// refused with 409 naming them (the phones would keep an owner that does
// not exist, and every later save of them fails); free_phones=true makes
// them hot desk phones in the same transaction.
func TestDeleteUserOwningPhones(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	e.do("POST", "/api/v1/users", `{"extension":"205","name":"Eve"}`).want(t, 201, nil)
	e.do("POST", "/api/v1/devices", `{"id":"eve-soft","mode":"personal","owner":"205"}`).want(t, 201, nil)
	e.do("POST", "/api/v1/devices", `{"id":"eve-desk","mode":"personal","owner":"205"}`).want(t, 201, nil)

	res := e.do("DELETE", "/api/v1/users/205", "")
	res.wantErr(t, 409, hotdesk.ECONFLICT, "phones")
	if b := string(res.Body); !strings.Contains(b, "eve-desk, eve-soft") {
		t.Fatalf("409 does not name the phones: %s", b)
	}
	if _, err := e.store.FindUser(ctx, "205"); err != nil {
		t.Fatalf("refused delete removed the user: %v", err)
	}
	e.do("DELETE", "/api/v1/users/205?free_phones=maybe", "").wantErr(t, 400, hotdesk.EINVALID, "free_phones")

	e.do("DELETE", "/api/v1/users/205?free_phones=true", "").want(t, 204, nil)
	if _, err := e.store.FindUser(ctx, "205"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("user still there: %v", err)
	}
	for _, id := range []string{"eve-soft", "eve-desk"} {
		d, err := e.store.FindDevice(ctx, id)
		if err != nil || d.Mode != hotdesk.ModeHotdesk || d.Owner != "" {
			t.Fatalf("%s not freed: %+v, %v", id, d, err)
		}
		// A later save of the phone works (it failed with the dangling owner).
		e.do("PATCH", "/api/v1/devices/"+id, `{"label":"Free desk"}`).want(t, 200, nil)
	}
	es, err := e.store.FindAudit(ctx, hotdesk.AuditFilter{Device: "eve-soft", Kinds: []string{hotdesk.KindDeviceChanged}, Limit: 10})
	if err != nil || len(es) < 2 || !strings.Contains(es[1].Detail, "owner 205 deleted") || es[1].Source != Source {
		t.Fatalf("freeing not audited: %+v, %v", es, err)
	}
}
