package provision

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// BenchmarkFetch serves a logged-in Yealink configuration through the
// handler (token path: lookup, render, audit) without a network.
func BenchmarkFetch(b *testing.B) {
	s := fixture(hotdesk.ModelYealink)
	s.login("HD00001", "201")
	srv := mustServer(b, s, newClock())
	tok, err := srv.Token(context.Background(), "HD00001")
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	req := httptest.NewRequest("GET", "/provision/t/"+tok+"/"+testMAC+".cfg", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
