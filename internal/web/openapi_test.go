package web

import (
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
)

// apiDoc is the part of the OpenAPI document the test reads.
type apiDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]apiParam `json:"parameters"`
	} `json:"components"`
}

type apiParam struct {
	Ref     string `json:"$ref"`
	Name    string `json:"name"`
	In      string `json:"in"`
	Example any    `json:"example"`
}

type apiOp struct {
	Parameters  []apiParam `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Examples map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"examples"`
		} `json:"content"`
	} `json:"requestBody"`
	Security *[]any `json:"security"`
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// TestOpenAPI holds the OpenAPI document against the API: every route the
// router serves is documented and every documented route is served; the
// document is served without a token; and every documented operation,
// with each example request body and the example query parameters, gets
// a successful answer from the real handler.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	var doc apiDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}

	// Routes: the mux's patterns against the document's operations.
	e := MustEnv(t)
	mux, ok := e.api.Handler().(*patternMux)
	if !ok {
		t.Fatal("Handler is not a patternMux")
	}
	served := map[string]bool{}
	for _, p := range mux.routes() {
		served[p] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for m := range item {
			if slices.Contains(httpMethods, m) {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	for _, r := range sortedKeys(served) {
		if !documented[r] {
			t.Errorf("served but not in openapi.json: %s", r)
		}
	}
	for _, r := range sortedKeys(documented) {
		if !served[r] {
			t.Errorf("in openapi.json but not served: %s", r)
		}
	}
	if len(served) < 30 {
		t.Fatalf("only %d routes found: %v", len(served), sortedKeys(served))
	}

	// The document is public and is what was embedded.
	r := e.doAuth("GET", "/api/v1/openapi.json", "", "")
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" || string(r.Body) != string(openAPI) {
		t.Fatalf("GET openapi.json without a token: %d %q", r.Status, r.Header.Get("Content-Type"))
	}

	// Every operation, on a fresh API with user 201 logged in at desk
	// HD00001 and webhook 1, with the documented examples.
	for _, route := range sortedKeys(documented) {
		method, path, _ := strings.Cut(route, " ")
		var common []apiParam
		if raw, ok := doc.Paths[path]["parameters"]; ok {
			if err := json.Unmarshal(raw, &common); err != nil {
				t.Fatalf("%s parameters: %v", path, err)
			}
		}
		var op apiOp
		if err := json.Unmarshal(doc.Paths[path][strings.ToLower(method)], &op); err != nil {
			t.Fatalf("%s: %v", route, err)
		}
		target, query := path, url.Values{}
		for _, p := range append(common, op.Parameters...) {
			if p.Ref != "" {
				p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.Example == nil {
				t.Errorf("%s: parameter %q has no example", route, p.Name)
				continue
			}
			v := strings.Trim(string(must(json.Marshal(p.Example))), `"`)
			switch p.In {
			case "path":
				target = strings.ReplaceAll(target, "{"+p.Name+"}", v)
			case "query":
				query.Set(p.Name, v)
			}
		}
		if len(query) > 0 {
			target += "?" + query.Encode()
		}
		if route == "GET /api/v1/events" {
			continue // a stream: TestEvents covers it; its query-free route is checked above
		}
		bodies := map[string]string{"": ""}
		if op.RequestBody != nil {
			bodies = map[string]string{}
			for _, ex := range op.RequestBody.Content["application/json"].Examples {
				bodies[string(ex.Value)] = string(ex.Value)
			}
			if len(bodies) == 0 {
				t.Errorf("%s: a request body without an example", route)
			}
		}
		for _, body := range bodies {
			e := MustEnv(t)
			e.MustUser("201")
			if id := e.MustDesk(); id != "HD00001" {
				t.Fatalf("desk %s", id)
			}
			e.do("POST", "/api/v1/webhooks", `{"url":"https://hooks.example.com/fixture"}`).want(t, 201, nil)
			e.do("POST", "/api/v1/logins", `{"extension":"201","device":"HD00001"}`).want(t, 201, nil)
			e.MustVoicemail("201") // message 1
			auth := "Bearer " + testToken
			if op.Security != nil && len(*op.Security) == 0 {
				auth = "" // documented as needing no token
			}
			r := e.doAuth(method, target, body, auth)
			if r.Status >= 400 {
				t.Errorf("%s %s %s: %d %s", method, target, body, r.Status, r.Body)
			}
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
