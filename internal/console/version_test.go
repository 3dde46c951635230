package console

import (
	"html/template"
	"net/http"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/buildinfo"
)

// Issue 17: the console footer names the running build, to signed-in
// admins only (the sign-in page does not advertise it).
func TestFooterShowsVersion(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	want := `<footer class="foot"><small>Hotdesk PBX ` + template.HTMLEscapeString(buildinfo.Get().Short()) + `</small></footer>`
	c := hs.signIn()
	mustContain(t, c.get("/"), http.StatusOK, want)
	if w := hs.do(nil, "GET", "/signin", nil); strings.Contains(w.Body.String(), "<footer") {
		t.Errorf("the sign-in page shows the version:\n%s", w.Body)
	}
}
