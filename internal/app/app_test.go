package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
	"github.com/hotdesk-pbx/hotdesk/internal/web/apitest"
)

// TestMain silences sipgo's fallback logger (it logs through slog.Default
// in a few places no option reaches).
func TestMain(m *testing.M) {
	if os.Getenv("HOTDESK_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}

// running is a whole PBX started through New and Run, as `hotdesk serve`
// does, on loopback ports chosen by the kernel.
type running struct {
	*App
	out  *siptest.Buffer
	stop func()
}

func testConfig(dataDir string, demo bool) Config {
	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	cfg.SIPAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.PublicIP = "127.0.0.1"
	cfg.RTPPorts = "31000-31999"
	cfg.Demo = demo
	if os.Getenv("HOTDESK_TEST_LOG") == "" {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// mustStart starts the PBX; it is stopped (and its store closed) when the
// test ends or when stop is called.
func mustStart(tb testing.TB, cfg Config) *running {
	tb.Helper()
	out := &siptest.Buffer{}
	cfg.Stdout = out
	a, err := New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("start: %v", err)
	}
	stopRun := testrun.Go(tb, a.Run)
	stop := sync.OnceFunc(func() { stopRun(); a.Close() })
	tb.Cleanup(stop)
	r := &running{App: a, out: out, stop: stop}
	testrun.WaitHealthy(tb, nil, r.HTTPURL()+"/healthz", 5*time.Second)
	return r
}

// api sends a request with the admin token and decodes a JSON answer into v
// (when v is not nil); it returns the status.
func (r *running) api(tb testing.TB, method, path, body string, v any) int {
	tb.Helper()
	code, _ := apitest.Client{Base: r.HTTPURL() + "/api/v1", Token: r.AdminToken()}.Do(tb, method, path, body, v)
	return code
}

type loginJSON struct {
	Extension string `json:"extension"`
	Device    string `json:"device"`
	Via       string `json:"via"`
}

func (r *running) logins(tb testing.TB) string {
	tb.Helper()
	var ls []loginJSON
	if code := r.api(tb, "GET", "/logins", "", &ls); code != http.StatusOK {
		tb.Fatalf("GET /logins: %d", code)
	}
	var words []string
	for _, l := range ls {
		words = append(words, l.Extension+"@"+l.Device)
	}
	return strings.Join(words, " ")
}

func demoPhone(tb testing.TB, r *running, id string) *siptest.Phone {
	tb.Helper()
	p := siptest.New(tb, siptest.Options{Server: r.SIPAddr(), User: id, Password: DemoPassword(id), Domain: r.cfg.Domain})
	p.MustRegister(tb)
	return p
}

// loginByPhone dials code and waits for the PBX to confirm and hang up.
func loginByPhone(tb testing.TB, p *siptest.Phone, code string) {
	tb.Helper()
	c, err := p.Dial(code)
	if err != nil {
		tb.Fatalf("dial %s: %v", code, err)
	}
	if err := c.WaitBye(15 * time.Second); err != nil {
		tb.Fatalf("dial %s: no BYE after the prompt: %v", code, err)
	}
}

// TestServeDemoEndToEnd does what the README tells a newcomer to do: start
// with --demo, register a hot desk phone, dial the login code, watch the
// login in the API, roam to another phone, restart and find it all kept.
func TestServeDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	r := mustStart(t, testConfig(dir, true))
	banner := r.out.String()
	for _, want := range []string{"Created console admin", "Demo office created", "HD00001", "admin-token", "Admin console:"} {
		if !strings.Contains(banner, want) {
			t.Errorf("start-up output lacks %q:\n%s", want, banner)
		}
	}
	if tok, err := os.ReadFile(dir + "/admin-token"); err != nil || strings.TrimSpace(string(tok)) != r.AdminToken() {
		t.Fatalf("admin token file: %q, %v", tok, err)
	}

	hd1 := demoPhone(t, r, "HD00001")
	loginByPhone(t, hd1, "*35*201*1234")
	if got := r.logins(t); got != "201@HD00001" {
		t.Fatalf("after *35*201*1234 on HD00001: logins %q", got)
	}
	if _, err := hd1.WaitNotify(1, "check-sync", 3*time.Second); err != nil {
		t.Errorf("HD00001 got no check-sync NOTIFY after the login: %v", err)
	}

	// Roaming: 201 logs in at HD00002 and is gone from HD00001.
	hd2 := demoPhone(t, r, "HD00002")
	loginByPhone(t, hd2, "*35*201*1234")
	if got := r.logins(t); got != "201@HD00002" {
		t.Fatalf("after roaming to HD00002: logins %q", got)
	}

	// The device shows its registration through the API.
	var dev struct {
		ID           string            `json:"id"`
		Registration []json.RawMessage `json:"registration"`
	}
	if code := r.api(t, "GET", "/devices/HD00002", "", &dev); code != http.StatusOK || len(dev.Registration) == 0 {
		t.Fatalf("GET /devices/HD00002: %d %+v", code, dev)
	}

	// An admin login through the API follows the same rules.
	if code := r.api(t, "POST", "/logins", `{"extension":"202","device":"HD00001"}`, nil); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("POST /logins: %d", code)
	}
	if got := r.logins(t); got != "201@HD00002 202@HD00001" && got != "202@HD00001 201@HD00002" {
		t.Fatalf("after the admin login: logins %q", got)
	}

	// An admin renaming a logged-in user reprovisions the phone: check-sync
	// to HD00001, whose configuration then shows the new name.
	syncs, _ := hd1.WaitNotify(0, "check-sync", 0) // the phone gets message-summary NOTIFYs too
	before := len(syncs)
	if code := r.api(t, "PATCH", "/users/202", `{"name":"Bram J. Jansen"}`, nil); code != http.StatusOK {
		t.Fatalf("PATCH /users/202: %d", code)
	}
	if _, err := hd1.WaitNotify(before+1, "check-sync", 3*time.Second); err != nil {
		t.Errorf("no check-sync to HD00001 after renaming its user: %v", err)
	}
	cfg := fetchConfig(t, r, "000413a00001.xml", "HD00001")
	if !strings.Contains(cfg, "Bram J. Jansen") || !strings.Contains(cfg, "202") {
		t.Errorf("HD00001's Snom configuration lacks the logged-in user:\n%s", cfg)
	}

	// Restart on the same data directory: logins and registrations stay.
	r.stop()
	r2 := mustStart(t, testConfig(dir, false))
	if got := r2.logins(t); got != "201@HD00002 202@HD00001" && got != "202@HD00001 201@HD00002" {
		t.Fatalf("after restart: logins %q", got)
	}
	if strings.Contains(r2.out.String(), "Created console admin") {
		t.Errorf("restart created the admin again:\n%s", r2.out.String())
	}
	if code := r2.api(t, "GET", "/devices/HD00002", "", &dev); code != http.StatusOK || len(dev.Registration) == 0 {
		t.Fatalf("registration lost across restart: %d %+v", code, dev)
	}
}

// TestServeRejectsBadStart checks that a port in use is reported by New.
func TestServeRejectsBadStart(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), false))
	cfg := testConfig(t.TempDir(), false)
	cfg.HTTPAddr = strings.TrimPrefix(r.HTTPURL(), "http://")
	_, err := New(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "listen http") {
		t.Fatalf("second PBX on the same HTTP port: %v", err)
	}
}

// fetchConfig fetches a phone's configuration with the device's digest
// credentials, as the phone does.
func fetchConfig(tb testing.TB, r *running, file, device string) string {
	tb.Helper()
	c := &http.Client{Transport: &digest.Transport{Username: device, Password: DemoPassword(device)}, Timeout: 5 * time.Second}
	res, err := c.Get(r.HTTPURL() + "/provision/" + file)
	if err != nil {
		tb.Fatalf("provision %s: %v", file, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("provision %s: %d %s", file, res.StatusCode, b)
	}
	return string(b)
}

// TestServeCallsFollowLogin calls between two demo desks through the whole
// PBX: the call reaches the phone the callee is logged in on, shows in the
// live calls while up and in both users' call records after; a neutral
// phone is refused.
func TestServeCallsFollowLogin(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	hd1, hd2, hd3 := demoPhone(t, r, "HD00001"), demoPhone(t, r, "HD00002"), demoPhone(t, r, "HD00003")
	loginByPhone(t, hd1, "*35*201*1234")
	loginByPhone(t, hd2, "*35*202*1234")

	call, err := hd1.Dial("202")
	if err != nil {
		t.Fatalf("201 calls 202: %v", err)
	}
	in := hd2.MustWaitIncoming(t, 5*time.Second)
	if from := in.Request.From(); from == nil || from.Address.User != "201" || from.DisplayName != "Anna de Vries" {
		t.Errorf("202's phone sees the call from %v, want 201 Anna de Vries", from)
	}
	var live []struct {
		From, To, State string
	}
	if code := r.api(t, "GET", "/calls", "", &live); code != http.StatusOK || len(live) != 1 || live[0].From != "201" || live[0].To != "202" || live[0].State != "confirmed" {
		t.Errorf("GET /calls during the call: %d %+v", code, live)
	}
	if err := call.Hangup(); err != nil {
		t.Fatal(err)
	}
	if err := in.WaitEnded(5 * time.Second); err != nil {
		t.Fatalf("202's phone never got the BYE: %v", err)
	}
	for _, tt := range []struct{ ext, dir, peer string }{{"201", "outbound", "202"}, {"202", "inbound", "201"}} {
		var recs []struct {
			Direction, Peer, Result, Device string
			End                             *time.Time
		}
		// Records are written behind the call (one transaction per batch):
		// wait for the one closed at the hang-up.
		deadline := time.Now().Add(5 * time.Second)
		for (len(recs) == 0 || recs[0].End == nil) && time.Now().Before(deadline) {
			r.api(t, "GET", "/users/"+tt.ext+"/calls", "", &recs)
			if len(recs) == 0 || recs[0].End == nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if len(recs) != 1 || recs[0].Direction != tt.dir || recs[0].Peer != tt.peer || recs[0].Result != "answered" {
			t.Errorf("%s's call records: %+v", tt.ext, recs)
		}
	}

	// Nobody is logged in on HD00003: it may not call 202.
	if _, err := hd3.Dial("202"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("neutral phone calling 202: %v, want 403", err)
	}
}

// TestServeMetricsShowRuntime checks /metrics carries the Go runtime and
// process figures next to the API's, so a leak is visible from outside.
func TestServeMetricsShowRuntime(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), false))
	res, err := http.Get(r.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	for _, want := range []string{"\ngo_goroutines ", "\ngo_memstats_heap_inuse_bytes ", "\nprocess_resident_memory_bytes ", "\nhotdesk_logins "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestServeHTTPS serves the API and provisioning over HTTPS with the
// configured certificate as well as over HTTP.
func TestServeHTTPS(t *testing.T) {
	dir := t.TempDir()
	cert := siptest.SelfSigned(t)
	certPEM, keyPEM := cert.CertPEM, cert.KeyPEM
	cfg := testConfig(dir, true)
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cfg.TLSCert, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.TLSKey, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	r := mustStart(t, cfg)
	tlsTransport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Roots}}
	base := "https://" + r.httpsLn.Addr().String()

	res, err := (&http.Client{Transport: tlsTransport, Timeout: 5 * time.Second}).Get(base + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over HTTPS: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz over HTTPS: %d", res.StatusCode)
	}
	c := &http.Client{Transport: &digest.Transport{Username: "HD00002", Password: DemoPassword("HD00002"), Transport: tlsTransport}, Timeout: 5 * time.Second}
	res, err = c.Get(base + "/provision/805ec0a00002.cfg")
	if err != nil {
		t.Fatalf("provisioning over HTTPS: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "HD00002") {
		t.Fatalf("provisioning over HTTPS: %d %s", res.StatusCode, b)
	}
}

func TestServeHTTPSBadCertificate(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, false)
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "missing.pem"), filepath.Join(dir, "missing-key.pem")
	_, err := New(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Fatalf("start with a missing certificate: %v", err)
	}
}
