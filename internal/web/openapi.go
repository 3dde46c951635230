package web

import (
	_ "embed"
	"net/http"
	"strings"
)

// openAPI is the API's OpenAPI 3.1 document. It is served without the
// admin token: it describes the contract, holds no data and no secret, and
// tools (code generators, API explorers) can read it before they have a
// token. TestOpenAPI checks it against the router and the handlers.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
	return nil
}

// patternMux is a ServeMux that remembers its patterns, so a test can
// hold the routes against the OpenAPI document.
type patternMux struct {
	*http.ServeMux
	patterns []string
}

func (m *patternMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// routes returns the method-qualified patterns ("GET /api/v1/users"); the
// catch-alls without a method (405s and the 404 for /api/) are left out.
func (m *patternMux) routes() []string {
	var out []string
	for _, p := range m.patterns {
		if method, _, ok := strings.Cut(p, " "); ok && method != "" {
			out = append(out, p)
		}
	}
	return out
}
