package apitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestDo: the token and (with a body) the JSON content type are sent; a
// 2xx answer is decoded, a 4xx one is returned as it is.
func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0k" {
			http.Error(w, `{"error":"token"}`, http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 && r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"error":"type"}`, http.StatusUnsupportedMediaType)
			return
		}
		if r.URL.Path == "/api/v1/missing" {
			http.Error(w, `{"error":"missing"}`, http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "body": string(b)})
	}))
	defer srv.Close()
	c := Client{Base: srv.URL + "/api/v1", Token: "t0k"}
	var got struct{ Method, Path, Body string }
	if code, _ := c.Do(t, "POST", "/users", `{}`, &got); code != 200 || got.Method != "POST" || got.Path != "/api/v1/users" || got.Body != "{}" {
		t.Fatalf("POST: %d %+v", code, got)
	}
	got.Method = ""
	if code, b := c.Do(t, "GET", "/missing", "", &got); code != 404 || got.Method != "" || string(b) != "{\"error\":\"missing\"}\n" {
		t.Fatalf("GET /missing: %d %q, decoded %+v", code, b, got)
	}
	if code, _ := (Client{Base: srv.URL, Token: "wrong"}).Do(t, "GET", "/", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
}
