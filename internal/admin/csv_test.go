package admin_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

func lines(rep *admin.ImportReport) string {
	var out []string
	for _, l := range rep.Lines {
		out = append(out, fmt.Sprintf("%d %s %s %s", l.Line, l.Action, l.Key, strings.Join(l.Fields, ",")))
	}
	return strings.Join(out, "; ")
}

func errs(rep *admin.ImportReport) string {
	var out []string
	for _, e := range rep.Errors {
		out = append(out, fmt.Sprintf("%d %s", e.Line, e.Field))
	}
	return strings.Join(out, "; ")
}

func TestImportUsers(t *testing.T) {
	s, db := mustService(t, nil)
	ctx := context.Background()
	pin := "1234"
	for _, ext := range []string{"201", "202"} {
		name := "User " + ext
		if _, err := s.CreateUser(ctx, "test", admin.UserInput{Extension: &ext, Name: &name, PIN: &pin}); err != nil {
			t.Fatal(err)
		}
	}
	good := "extension,name,email,hotdesk,pin,dids,blf\n" +
		"201,User 201,,false,,,\n" + // unchanged
		"202,Bob Smit,bob@example.com,true,,+31201110202,201 203\n" + // update
		"203,Cas,,yes,5555,,\n" + // create
		"\n" +
		"204,Dee,,no,,,\n"
	bad := good + "205,,,,,,\n" + "206,Eve,not-an-email,maybe,12,,\n" + "203,Again,,,,,\n" + "x1,Bad,,,,,\n" + "207,Short line\n"

	rep, err := s.Import(ctx, "console:admin", admin.ImportUsers, strings.NewReader(bad), true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied || rep.OK() {
		t.Fatal("a file with errors was applied")
	}
	if got := errs(rep); got != "7 name; 8 hotdesk; 8 email; 8 pin; 9 extension; 10 extension; 11 " {
		t.Fatalf("errors %s", got)
	}
	if _, err := db.FindUser(ctx, "203"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatal("203 was created by a refused file")
	}

	rep, err = s.Import(ctx, "console:admin", admin.ImportUsers, strings.NewReader(good), false)
	if err != nil || !rep.OK() || rep.Applied {
		t.Fatalf("dry run: %+v %v", rep, err)
	}
	if got := lines(rep); got != "2 unchanged 201 ; 3 update 202 name,email,hotdesk,dids,blf; 4 create 203 ; 6 create 204 " {
		t.Fatalf("dry run lines: %s", got)
	}
	if _, err := db.FindUser(ctx, "203"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatal("the dry run created 203")
	}

	// 202 is logged in; the file keeps hot desking on. 201 is logged in
	// too and the file switches it off: the import logs 201 out.
	if err := db.CreateDevice(ctx, &hotdesk.Device{Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelSnom}); err != nil {
		t.Fatal(err)
	}
	d := desk.New(desk.Options{Store: db})
	hot := true
	if _, err := s.UpdateUser(ctx, "test", "201", admin.UserInput{Hotdesk: &hot}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Login(ctx, desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI}); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Import(ctx, "console:admin", admin.ImportUsers, strings.NewReader(good), true)
	if err != nil || !rep.Applied || rep.Created != 2 || rep.Updated != 2 {
		t.Fatalf("apply: %+v %v", rep, err)
	}
	u, _ := db.FindUser(ctx, "202")
	if u.Name != "Bob Smit" || !u.Hotdesk || strings.Join(u.BLF, ",") != "201,203" || strings.Join(u.DIDs, ",") != "+31201110202" || !u.HasPIN {
		t.Fatalf("202 after import: %+v", u)
	}
	if u, _ := db.FindUser(ctx, "203"); u == nil || !u.HasPIN || u.Outbound != hotdesk.OutboundNational {
		t.Fatalf("203 after import: %+v", u)
	}
	if _, err := d.Login(ctx, desk.LoginRequest{Extension: "203", PIN: "5555", CheckPIN: true, Device: "HD00001", Via: hotdesk.ViaPhone}); err != nil {
		t.Fatalf("203 with the imported PIN: %v", err)
	}
	if _, err := db.LoginByUser(ctx, "201"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatal("201 still logged in after the file switched hot desking off")
	}
	evs, _ := db.FindAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindUserChanged}, Limit: 1})
	if evs[0].Reason != "import" || evs[0].Source != "console:admin" || !strings.Contains(evs[0].Detail, "2 created, 2 updated") {
		t.Fatalf("audit %+v", evs[0])
	}

	// Export, then import the export: nothing changes.
	var buf bytes.Buffer
	if err := s.ExportUsers(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "extension,name,email,hotdesk,pin,caller_id,dids,outbound,blf,voicemail\n201,User 201,,false,,") {
		t.Fatalf("export:\n%s", buf.String())
	}
	rep, err = s.Import(ctx, "api", admin.ImportUsers, &buf, false)
	if err != nil || !rep.OK() || rep.Unchanged != 4 || rep.Created+rep.Updated != 0 {
		t.Fatalf("re-import of the export: %+v %v", rep, err)
	}

	for _, tc := range []struct{ file, want string }{
		{"", "1 "},
		{"name\nAnn\n", "1 extension"},
		{"extension,colour\n201,red\n", "1 colour"},
		{"extension,\"name\n201,x\n", "1 "},
	} {
		rep, err := s.Import(ctx, "api", admin.ImportUsers, strings.NewReader(tc.file), true)
		if err != nil || errs(rep) != tc.want {
			t.Errorf("%q: errors %q, %v; want %q", tc.file, errs(rep), err, tc.want)
		}
	}
	if _, err := s.Import(ctx, "api", "phones", strings.NewReader("id\n"), false); hotdesk.ErrorCode(err) != hotdesk.EINVALID {
		t.Fatalf("unknown kind: %v", err)
	}
}

func TestImportDevices(t *testing.T) {
	s, db := mustService(t, nil)
	ctx := context.Background()
	ext, name := "201", "Ann"
	if _, err := s.CreateUser(ctx, "test", admin.UserInput{Extension: &ext, Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDevice(ctx, "test", admin.DeviceInput{MAC: ptr("00:04:13:00:00:01")}); err != nil {
		t.Fatal(err)
	}
	file := "id,label,mac,model,mode,owner,location\n" +
		"HD00001,Desk 1,000413000001,snom,hotdesk,,Floor 1\n" + // update
		",Desk 2,00-04-13-00-00-02,yealink,hotdesk,,Floor 1\n" + // create, next id
		"P201,Ann's phone,,generic,personal,201,\n" + // create personal
		"P299,Nobody's,,generic,personal,299,\n" + // unknown owner
		",Desk 3,00:04:13:00:00:02,snom,,,\n" + // MAC twice
		",Desk 4,,fax,,,\n" // bad model
	rep, err := s.Import(ctx, "api", admin.ImportDevices, strings.NewReader(file), true)
	if err != nil || rep.Applied || errs(rep) != "5 owner; 6 mac; 7 model" {
		t.Fatalf("errors %q %v", errs(rep), err)
	}
	ok := strings.Join(strings.Split(file, "\n")[:4], "\n") + "\n"
	rep, err = s.Import(ctx, "api", admin.ImportDevices, strings.NewReader(ok), true)
	if err != nil || !rep.Applied {
		t.Fatalf("apply: %+v %v", rep, err)
	}
	if got := lines(rep); got != "2 update HD00001 label,model,location; 3 create HD00002 ; 4 create P201 " {
		t.Fatalf("lines %s", got)
	}
	if d, _ := db.FindDevice(ctx, "HD00002"); d == nil || d.MAC != "000413000002" || d.Model != "yealink" || len(d.SIPPassword) < 20 || d.ProvisionToken == "" {
		t.Fatalf("HD00002: %+v", d)
	}
	if d, _ := db.FindDevice(ctx, "P201"); d == nil || d.Owner != "201" {
		t.Fatalf("P201: %+v", d)
	}
	var buf bytes.Buffer
	if err := s.ExportDevices(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Import(ctx, "api", admin.ImportDevices, &buf, false)
	if err != nil || !rep.OK() || rep.Unchanged != 3 {
		t.Fatalf("re-import of the export: %+v %v\n%s", rep, err, buf.String())
	}
}

func ptr[T any](v T) *T { return &v }
