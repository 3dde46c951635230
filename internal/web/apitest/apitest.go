// Package apitest is a client of the admin API for the tests that run the
// PBX whole (internal/app, cmd/hotdesk, test/...): a request as the admin,
// its JSON answer decoded, failures of the transport failing the test.
package apitest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Client calls one PBX's API as the admin.
type Client struct {
	Base  string       // what paths are relative to, e.g. http://127.0.0.1:8080/api/v1
	Token string       // the admin token, sent as a bearer token
	HTTP  *http.Client // nil: http.DefaultClient
	Name  string       // names the PBX in failures (a cluster's node); optional
}

// Do sends method Base+path with body (JSON; "" sends none), decodes a 2xx
// answer into v when v is not nil, and returns the status and the body. A
// request that gets no answer, or a 2xx answer that does not decode into
// v, fails the test.
func (c Client) Do(tb testing.TB, method, path, body string, v any) (int, []byte) {
	tb.Helper()
	what := method + " " + path
	if c.Name != "" {
		what = c.Name + ": " + what
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if v != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			tb.Fatalf("%s: decode %q: %v", what, b, err)
		}
	}
	return res.StatusCode, b
}
