package console

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestImportExportConsole(t *testing.T) {
	hs, c := newSignedIn(t)
	hs.office()
	w := c.get("/users/export.csv")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(w.Body.String(), "extension,name,email,hotdesk,pin,") || !strings.Contains(w.Body.String(), "\n203,User 203,") {
		t.Fatalf("users export: %d %q\n%s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	mustContain(t, c.get("/devices/export.csv"), http.StatusOK, "id,label,mac,model,mode,owner,location,emergency_callback\n", "P201,,,yealink,personal,201,")
	mustContain(t, c.get("/users"), http.StatusOK, `<h1>Users</h1>`, `href="/users/export.csv"`, `href="/import?kind=users"`,
		`href="/users/new">New user</a>`)
	mustContain(t, c.get("/devices"), http.StatusOK, `<h1>Devices</h1>`, `href="/devices/export.csv"`, `href="/import?kind=devices"`,
		`href="/devices/new">New device</a>`)

	file := "extension,name,hotdesk\n201,Ann Jansen,yes\n301,New Person,no\n"
	w = c.post("/import", map[string][]string{"kind": {"users"}, "csv": {file}})
	mustContain(t, w, http.StatusOK, "Dry run: nothing has changed yet", `<strong id="n-create">1</strong>`, `<strong id="n-update">1</strong>`, "name", `id="import-apply"`)
	if hs.user("301") != nil {
		t.Fatal("the dry run created 301")
	}
	mustContain(t, c.post("/import", map[string][]string{"kind": {"users"}, "csv": {file + "30x,Bad,maybe\n"}}), http.StatusBadRequest,
		"The file has errors: nothing was imported", "<td data-label=\"Line\">4</td>", "hotdesk must be yes or no")
	w = c.post("/import", map[string][]string{"kind": {"users"}, "csv": {file}, "apply": {"1"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/users" {
		t.Fatalf("apply: %d %s", w.Code, w.Header().Get("Location"))
	}
	mustContain(t, c.get("/users"), http.StatusOK, "Imported users: 1 created, 1 updated, 0 unchanged.")
	if u := hs.user("301"); u == nil || u.Name != "New Person" || hs.user("201").Name != "Ann Jansen" {
		t.Fatal("the import did not land")
	}
	mustContain(t, c.post("/import", map[string][]string{"kind": {"users"}}), http.StatusBadRequest, "Choose a CSV file or paste its text.")
}

func TestBrowserImport(t *testing.T) {
	// Not parallel: Chromiums side by side time out on a loaded 2-core machine.
	hs := newHarness(t)
	hs.office()
	dir := t.TempDir()
	path := filepath.Join(dir, "desks.csv")
	if err := os.WriteFile(path, []byte("id,label,model,location\n,Desk 4,snom,Floor 4\n,Desk 5,yealink,Floor 4\nHD00001,Desk A,snom,Floor 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, url := hs.browse(t)
	step(t, ctx, "import page", chromedp.Navigate(url+"/devices"), chromedp.WaitVisible(chromedp.CSS(`a[href="/import?kind=devices"]`)))
	submit(t, ctx, "to import", `a[href="/import?kind=devices"]`)
	waitFor(t, ctx, "import form", `document.querySelector('#f-kind')?.value === 'devices'`)
	step(t, ctx, "choose file", chromedp.SetUploadFiles(chromedp.CSS(`#f-file`), []string{path}))
	submit(t, ctx, "dry run", `#import-check`)
	waitFor(t, ctx, "dry-run report", `document.querySelector('#n-create')?.textContent === '2' && document.querySelector('#n-update').textContent === '1'`)
	screenshot(t, ctx, outputDir(t), "import-dry-run")
	if _, n, _ := hs.store.FindDevices(t.Context(), devicesAll); n != 4 {
		t.Fatalf("%d devices after the dry run", n)
	}
	submit(t, ctx, "apply", `#import-apply`)
	waitFor(t, ctx, "applied", `document.querySelector('.flash')?.textContent === 'Imported devices: 2 created, 1 updated, 0 unchanged.'`)
	if d := hs.device("HD00005"); d.Label != "Desk 5" || d.Model != "yealink" {
		t.Fatalf("HD00005 %+v", d)
	}
}

var devicesAll = hotdesk.DeviceFilter{}
