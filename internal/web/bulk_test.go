package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

func TestImportExportAPI(t *testing.T) {
	t.Parallel()
	e := MustEnv(t)
	e.MustUser("201")
	body := func(csv string, dry bool) string {
		b, _ := json.Marshal(importIn{CSV: &csv, DryRun: dry})
		return string(b)
	}
	file := "extension,name,pin\n201,Ann Jansen,\n301,New Person,4321\n"
	var rep admin.ImportReport
	e.do("POST", "/api/v1/import/users", body(file, true)).want(t, 200, &rep)
	if rep.Applied || rep.Created != 1 || rep.Updated != 1 || len(rep.Lines) != 2 || rep.Lines[0].Fields[0] != "name" {
		t.Fatalf("dry run %+v", rep)
	}
	e.do("GET", "/api/v1/users/301", "").wantErr(t, 404, "not_found", "")
	rep = admin.ImportReport{}
	e.do("POST", "/api/v1/import/users", body(file+"30x,Bad,\n", false)).want(t, 422, &rep)
	if rep.Applied || len(rep.Errors) != 1 || rep.Errors[0].Line != 4 || rep.Errors[0].Field != "extension" {
		t.Fatalf("refused %+v", rep)
	}
	e.do("GET", "/api/v1/users/301", "").wantErr(t, 404, "not_found", "")
	rep = admin.ImportReport{}
	e.do("POST", "/api/v1/import/users", body(file, false)).want(t, 200, &rep)
	if !rep.Applied {
		t.Fatalf("apply %+v", rep)
	}
	e.do("GET", "/api/v1/users/301", "").want(t, 200, nil)
	r := e.do("GET", "/api/v1/export/users", "").want(t, 200, nil)
	if r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(string(r.Body), "\n301,New Person,,false,,") {
		t.Fatalf("export %q\n%s", r.Header.Get("Content-Type"), r.Body)
	}
	e.do("GET", "/api/v1/export/phones", "").wantErr(t, 404, "not_found", "")
	e.do("POST", "/api/v1/import/users", `{"dry_run":true}`).wantErr(t, 400, "invalid", "csv")
}
