package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// codeMethod is the code of a method the path does not serve.
const codeMethod = admin.CodeMethod

func errMethod(method, path string) error {
	return hotdesk.Errorf(codeMethod, "Method %s is not allowed on %s.", method, path)
}

// handlerFunc is an API handler: it writes a response or returns an error
// that handle writes.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errorBody is the JSON of every error response.
type errorBody struct {
	Error errorJSON `json:"error"`
}

// errorJSON is the first error (code, message, field) and, for invalid
// input, every bad field at once.
type errorJSON struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Field   string      `json:"field,omitempty"`
	Errors  []fieldJSON `json:"errors,omitempty"`
}

type fieldJSON struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// handle adapts h: it checks the token (when auth), counts the request by
// route and status, recovers panics and writes h's error.
func (a *API) handle(route string, auth bool, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
			a.metrics.observe(route, w.status(), time.Since(start))
		}()
		w.Header().Set("Cache-Control", "no-store")
		if auth && !a.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hotdesk"`)
			a.writeError(w, r, hotdesk.Errorf(hotdesk.EUNAUTHORIZED, "A valid bearer token is required (Authorization: Bearer <admin token>)."))
			return
		}
		if err := checkParams(route, r.URL.Query()); err != nil {
			a.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// writeError writes err as JSON. Messages of unexpected errors never reach
// the client: they say "Internal error." and the cause goes to the log.
func (a *API) writeError(w *statusWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		w.code = 499 // client went away; nobody reads a response
		return
	}
	status, code, msg := admin.Answer(a.log, r, err, "Internal error.")
	if w.wrote {
		return // a stream already started; the status is out
	}
	body := errorJSON{Code: code, Message: msg, Field: hotdesk.ErrorField(err)}
	if code == hotdesk.EINVALID {
		for _, e := range admin.Fields(err) {
			if e.Field == "" {
				continue
			}
			body.Errors = append(body.Errors, fieldJSON{Field: e.Field, Message: e.Message})
		}
	}
	writeJSON(w, status, errorBody{Error: body})
}

func withField(err error, field string) error { return admin.WithField(err, field) }

// statusWriter records the status for metrics and keeps Flush for SSE.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func sortedStrings(ss []string) []string {
	slices.Sort(ss)
	return ss
}

// queryParams lists the query parameters each route reads; any other is
// refused (400), so a misspelt filter is not silently ignored. A route not
// listed takes none. The search is "q" as in the console; "search" is
// still accepted (the API's name before 0.x, documented in README).
var queryParams = map[string][]string{
	"GET /api/v1/users":                    {"q", "search", "offset", "limit"},
	"DELETE /api/v1/users/{ext}":           {"free_phones"},
	"GET /api/v1/users/{ext}/calls":        {"limit"},
	"GET /api/v1/devices":                  {"q", "search", "mode", "owner", "offset", "limit"},
	"GET /api/v1/audit":                    {"extension", "device", "kind", "since", "until", "before_id", "offset", "limit"},
	"GET /api/v1/events":                   {"kinds"},
	"GET /api/v1/webhooks/{id}/deliveries": {"state", "limit"},
	"GET /api/v1/emergency-calls":          {"device", "unacked", "test", "since", "limit"},
}

// checkParams refuses the query parameters route does not read, naming
// each one. Routes without a method (405, no such endpoint, /healthz)
// take any.
func checkParams(route string, q url.Values) error {
	if !strings.Contains(route, " ") {
		return nil
	}
	var inv admin.Invalid
	for _, name := range sortedStrings(slices.Collect(maps.Keys(q))) {
		if !slices.Contains(queryParams[route], name) {
			inv = append(inv, hotdesk.Invalidf(name, "Unknown query parameter %q.", name))
		}
	}
	if len(inv) == 0 {
		return nil
	}
	return inv
}

// searchParam is the search text: q, or its older name search.
func searchParam(q url.Values) string {
	if v := q.Get("q"); v != "" {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(q.Get("search"))
}
