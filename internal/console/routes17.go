package console

import "net/http"

// routes17 adds the pages of issue 17 (managing hundreds of phones).
func (c *Console) routes17(mux *http.ServeMux) {
	mux.Handle("GET /dashboard", c.auth(c.dashboardPage))
}

func init() {
	for name, t := range map[string][2]string{
		"dashboard": {"Dashboard", "dashboard"},
	} {
		titles[name], navOf[name] = t[0], t[1]
	}
}
