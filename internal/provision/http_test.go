package provision

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/icholy/digest"
)

type httpHarness struct {
	store *fakeStore
	clock *fakeClock
	prov  *Server
	ts    *httptest.Server
}

func mustHTTP(t *testing.T, model string) *httpHarness {
	t.Helper()
	h := &httpHarness{store: fixture(model), clock: newClock()}
	h.prov = mustServer(t, h.store, h.clock)
	mux := http.NewServeMux()
	mux.Handle("/provision/", h.prov.Handler()) // mounted as the app does
	h.ts = httptest.NewServer(mux)
	t.Cleanup(h.ts.Close)
	return h
}

// get fetches path with an optional client and returns status, body, response.
func (h *httpHarness) get(t *testing.T, c *http.Client, path string) (int, string, *http.Response) {
	t.Helper()
	if c == nil {
		c = h.ts.Client()
	}
	res, err := c.Get(h.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res
}

func digestClient(user, pass string) *http.Client {
	return &http.Client{Transport: &digest.Transport{Username: user, Password: pass}}
}

// getSHA256 answers the SHA-256 challenge by hand (digest.Transport takes
// the first challenge, which is MD5).
func (h *httpHarness) getSHA256(t *testing.T, path, user, pass string) (int, string) {
	t.Helper()
	code, _, res := h.get(t, nil, path)
	if code != http.StatusUnauthorized {
		t.Fatalf("want 401, got %d", code)
	}
	var chal *digest.Challenge
	for _, v := range res.Header.Values("WWW-Authenticate") {
		c, err := digest.ParseChallenge(v)
		if err == nil && c.Algorithm == "SHA-256" {
			chal = c
		}
	}
	if chal == nil {
		t.Fatalf("no SHA-256 challenge in %v", res.Header.Values("WWW-Authenticate"))
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "GET", URI: path, Username: user, Password: pass, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
	req.Header.Set("Authorization", cred.String())
	res2, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	b, _ := io.ReadAll(res2.Body)
	return res2.StatusCode, string(b)
}

var vendorPaths = map[string]string{
	hotdesk.ModelSnom:        "/provision/" + strings.ToUpper(testMAC) + ".xml",
	hotdesk.ModelYealink:     "/provision/" + testMAC + ".cfg",
	hotdesk.ModelGrandstream: "/provision/cfg" + testMAC + ".xml",
}

func eachVendor(t *testing.T, f func(t *testing.T, h *httpHarness, path string)) {
	for _, v := range []string{hotdesk.ModelSnom, hotdesk.ModelYealink, hotdesk.ModelGrandstream} {
		t.Run(v, func(t *testing.T) { f(t, mustHTTP(t, v), vendorPaths[v]) })
	}
}

func TestChallenge(t *testing.T) {
	eachVendor(t, func(t *testing.T, h *httpHarness, path string) {
		code, body, res := h.get(t, nil, path)
		chals := res.Header.Values("WWW-Authenticate")
		if code != http.StatusUnauthorized || len(chals) != 2 {
			t.Fatalf("got %d %v", code, chals)
		}
		for i, alg := range []string{"MD5", "SHA-256"} {
			c, err := digest.ParseChallenge(chals[i])
			if err != nil || c.Algorithm != alg || c.Realm != testRealm || !c.SupportsQOP("auth") {
				t.Fatalf("challenge %d: %+v %v", i, c, err)
			}
		}
		if strings.Contains(body, "HD00001") {
			t.Fatal("401 body leaks the configuration")
		}
	})
}

// Issue 12: provisioning challenges the algorithms of the one --digest
// setting, by default MD5 alone, as the registrar does.
func TestChallengeDefaultMD5Only(t *testing.T) {
	h := mustHTTP(t, hotdesk.ModelSnom)
	srv, err := New(Options{Store: h.store, Logger: quietLogger(), Now: h.clock.Now, SIPHost: "192.0.2.10", Realm: testRealm})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	res, err := ts.Client().Get(ts.URL + vendorPaths[hotdesk.ModelSnom])
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	chals := res.Header.Values("WWW-Authenticate")
	if res.StatusCode != http.StatusUnauthorized || len(chals) != 1 {
		t.Fatalf("got %d %v", res.StatusCode, chals)
	}
	if c, err := digest.ParseChallenge(chals[0]); err != nil || c.Algorithm != "MD5" {
		t.Fatalf("challenge %+v %v", c, err)
	}
	if _, err := New(Options{Store: h.store, SIPHost: "h", Realm: testRealm, Algorithms: []string{"SHA-512"}}); err == nil {
		t.Fatal("SHA-512 accepted")
	}
}

func TestDigestSuccess(t *testing.T) {
	eachVendor(t, func(t *testing.T, h *httpHarness, path string) {
		code, body, res := h.get(t, digestClient("HD00001", `pw&<"x">`), path)
		if code != http.StatusOK || !strings.Contains(body, "HD00001") {
			t.Fatalf("MD5: %d %s", code, body)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
		}
		if strings.Contains(body, "other-device-secret") {
			t.Fatal("leaks another device's password")
		}
		if code, body = h.getSHA256(t, path, "HD00001", `pw&<"x">`); code != http.StatusOK || !strings.Contains(body, "HD00001") {
			t.Fatalf("SHA-256: %d %s", code, body)
		}
		as := h.store.audits(hotdesk.KindProvisionFetch)
		if len(as) != 2 || as[0].Device != "HD00001" || !strings.HasPrefix(as[0].Source, "127.0.0.1:") {
			t.Fatalf("audit: %+v", as)
		}
	})
}

func TestWrongCredentials(t *testing.T) {
	eachVendor(t, func(t *testing.T, h *httpHarness, path string) {
		if code, _, _ := h.get(t, digestClient("HD00001", "wrong"), path); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", code)
		}
		// Another device's valid credentials do not open this MAC.
		if code, body, _ := h.get(t, digestClient("HD00002", "other-device-secret"), path); code != http.StatusUnauthorized {
			t.Fatalf("other device's credentials: %d %s", code, body)
		}
		if code, _ := h.getSHA256(t, path, "HD00001", "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("SHA-256 wrong password: %d", code)
		}
		if n := len(h.store.audits(hotdesk.KindProvisionFetch)); n != 0 {
			t.Fatalf("%d fetches audited", n)
		}
	})
}

func TestUnknownMAC(t *testing.T) {
	eachVendor(t, func(t *testing.T, h *httpHarness, path string) {
		p := strings.Replace(strings.ToLower(path), testMAC, "0004130000ff", 1)
		code, _, res := h.get(t, nil, p)
		if code != http.StatusNotFound || res.Header.Get("WWW-Authenticate") != "" {
			t.Fatalf("unknown MAC: %d %v", code, res.Header)
		}
		if code, _, _ := h.get(t, nil, "/provision/y000000000044.cfg"); code != http.StatusNotFound {
			t.Fatalf("common file: %d", code)
		}
	})
}

func TestVendorMismatchIs404(t *testing.T) {
	h := mustHTTP(t, hotdesk.ModelSnom)
	if code, _, _ := h.get(t, digestClient("HD00001", `pw&<"x">`), vendorPaths[hotdesk.ModelYealink]); code != http.StatusNotFound {
		t.Fatalf("yealink file for a snom: %d", code)
	}
}

func TestTokenPath(t *testing.T) {
	eachVendor(t, func(t *testing.T, h *httpHarness, path string) {
		tok, err := h.prov.Token(context.Background(), "HD00001")
		if err != nil || len(tok) < 40 {
			t.Fatalf("token %q %v", tok, err)
		}
		if again, _ := h.prov.Token(context.Background(), "HD00001"); again != tok {
			t.Fatal("token changed on second call")
		}
		file := strings.TrimPrefix(path, "/provision/")
		code, body, _ := h.get(t, nil, "/provision/t/"+tok+"/"+file)
		if code != http.StatusOK || !strings.Contains(body, "HD00001") {
			t.Fatalf("token fetch: %d %s", code, body)
		}
		if code, _, _ := h.get(t, nil, "/provision/t/"+strings.Repeat("A", 43)+"/"+file); code != http.StatusForbidden {
			t.Fatalf("wrong token: %d", code)
		}
		// Device HD00002 has no token yet: no token opens it.
		other := strings.Replace(strings.ToLower(file), testMAC, otherMAC, 1)
		if code, _, _ := h.get(t, nil, "/provision/t/"+tok+"/"+other); code != http.StatusForbidden {
			t.Fatalf("token of another device: %d", code)
		}
		as := h.store.audits(hotdesk.KindProvisionFetch)
		if len(as) != 1 || !strings.Contains(as[0].Detail, "auth=token") {
			t.Fatalf("audit %+v", as)
		}
	})
}

func TestBlocking(t *testing.T) {
	eachVendor(t, func(t *testing.T, h *httpHarness, path string) {
		for i := 1; i < DefaultMaxFailures; i++ {
			if code, _, _ := h.get(t, digestClient("HD00001", "wrong"), path); code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, code)
			}
		}
		code, _, res := h.get(t, digestClient("HD00001", "wrong"), path)
		if code != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("failure %d: %d", DefaultMaxFailures, code)
		}
		// Blocked: even the right password and unknown MACs get 429.
		if code, _, _ := h.get(t, digestClient("HD00001", `pw&<"x">`), path); code != http.StatusTooManyRequests {
			t.Fatalf("while blocked: %d", code)
		}
		if len(h.store.audits(hotdesk.KindAuthBlocked)) != 1 {
			t.Fatal("block not audited")
		}
		h.clock.Advance(DefaultBlockFor + 1)
		if code, _, _ := h.get(t, digestClient("HD00001", `pw&<"x">`), path); code != http.StatusOK {
			t.Fatalf("after the block: %d", code)
		}
	})
}

func TestUnknownMACsBlockScanners(t *testing.T) {
	h := mustHTTP(t, hotdesk.ModelYealink)
	for i := 0; i < DefaultMaxFailures-1; i++ {
		h.get(t, nil, "/provision/00041300000"+string(rune('0'+i))+".cfg")
	}
	if code, _, _ := h.get(t, nil, "/provision/0004130000ff.cfg"); code != http.StatusTooManyRequests {
		t.Fatalf("scanner not blocked: %d", code)
	}
}

func TestStaleNonce(t *testing.T) {
	h := mustHTTP(t, hotdesk.ModelYealink)
	path := vendorPaths[hotdesk.ModelYealink]
	_, _, res := h.get(t, nil, path)
	chal, _ := digest.ParseChallenge(res.Header.Values("WWW-Authenticate")[0])
	h.clock.Advance(nonceTTL + 1)
	cred, _ := digest.Digest(chal, digest.Options{Method: "GET", URI: path, Username: "HD00001", Password: `pw&<"x">`, Count: 1})
	req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
	req.Header.Set("Authorization", cred.String())
	res2, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	c2, err := digest.ParseChallenge(res2.Header.Get("WWW-Authenticate"))
	if res2.StatusCode != http.StatusUnauthorized || err != nil || !c2.Stale {
		t.Fatalf("stale nonce: %d %v", res2.StatusCode, res2.Header)
	}
	// Replaying the same nonce count is refused, too.
	h.clock.Advance(-nonceTTL)
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		res3, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res3.Body.Close()
		if res3.StatusCode != want {
			t.Fatalf("attempt %d: %d, want %d", i, res3.StatusCode, want)
		}
	}
}

func TestMalformedAndMethod(t *testing.T) {
	h := mustHTTP(t, hotdesk.ModelYealink)
	path := vendorPaths[hotdesk.ModelYealink]
	req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
	req.Header.Set("Authorization", `Digest username="HD00001", uri="/elsewhere"`)
	res, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("uri mismatch: %d", res.StatusCode)
	}
	res, err = h.ts.Client().Post(h.ts.URL+path, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", res.StatusCode)
	}
}

func TestStoreFailureIs503(t *testing.T) {
	h := mustHTTP(t, hotdesk.ModelYealink)
	h.store.SetFail(errors.New("disk on fire"))
	if code, body, _ := h.get(t, nil, vendorPaths[hotdesk.ModelYealink]); code != http.StatusServiceUnavailable || strings.Contains(body, "fire") {
		t.Fatalf("store failure: %d %s", code, body)
	}
}

// TestFollowsLogin fetches through the desk service: the configuration
// shows whoever is logged in now.
func TestFollowsLogin(t *testing.T) {
	h := mustHTTP(t, hotdesk.ModelYealink)
	var err error
	h.prov, err = New(Options{Store: h.store, Desk: desk.New(desk.Options{Store: h.store, Logger: quietLogger()}),
		Logger: quietLogger(), Now: h.clock.Now, SIPHost: "192.0.2.10", Realm: testRealm})
	if err != nil {
		t.Fatal(err)
	}
	h.ts.Config.Handler = h.prov.Handler()
	c := digestClient("HD00001", `pw&<"x">`)
	if _, body, _ := h.get(t, c, vendorPaths[hotdesk.ModelYealink]); !strings.Contains(body, "account.1.display_name = HD00001") {
		t.Fatalf("neutral:\n%s", body)
	}
	h.store.login("HD00001", "201")
	if _, body, _ := h.get(t, c, vendorPaths[hotdesk.ModelYealink]); !strings.Contains(body, "account.1.display_name = Anna O'Neil & <Co>") {
		t.Fatalf("logged in:\n%s", body)
	}
}

// fromIP returns a client whose connections leave from localIP (any
// 127.0.0.x on loopback).
func fromIP(localIP string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// Issue 11 item 8, applied to the provisioning digest too: a nonce passes
// only from the address it was sent to, so an answer from elsewhere gets a
// fresh challenge and counts no failure against that address.
func TestNonceBoundToClientAddress(t *testing.T) {
	h := mustHTTP(t, hotdesk.ModelYealink)
	path := vendorPaths[hotdesk.ModelYealink]
	res, err := fromIP("127.0.0.3").Get(h.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	chal, err := digest.ParseChallenge(res.Header.Get("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	answer := func(from, pass string, n int) int {
		cred, err := digest.Digest(chal, digest.Options{Method: "GET", URI: path, Username: "HD00001", Password: pass, Count: n})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		req.Header.Set("Authorization", cred.String())
		res, err := fromIP(from).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for i := range 30 {
		if code := answer("127.0.0.2", "wrong", i+1); code != http.StatusUnauthorized {
			t.Fatalf("answer %d from another address: %d", i+1, code)
		}
	}
	if code := answer("127.0.0.2", `pw&<"x">`, 31); code != http.StatusUnauthorized {
		t.Fatalf("right password, another address's nonce: %d", code)
	}
	if w := h.prov.lim.BlockedFor("127.0.0.2", h.clock.Now()); w != 0 {
		t.Fatalf("127.0.0.2 blocked for %v", w)
	}
	if h.prov.lim.Failures("127.0.0.2", h.clock.Now()) != 0 {
		t.Fatal("failures counted against an address for nonces it was never sent")
	}
	if code := answer("127.0.0.3", `pw&<"x">`, 32); code != http.StatusOK {
		t.Fatalf("from the address the nonce was sent to: %d", code)
	}
}
