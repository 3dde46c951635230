package main

// Helpers for the tests that run several nodes on one PostgreSQL.

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/web/apitest"
)

var sipRE = regexp.MustCompile(`SIP:\s+(\S+) \(UDP`)

// node is one running PBX of the test cluster.
type node struct {
	name, ip string
	p        *proc
	http     string // base URL
	sip      string // host:port
	token    string
}

const nodeTimeout = 3 * time.Second

func startNode(t *testing.T, name, ip, db, rtp string, demo bool, extra ...string) *node {
	t.Helper()
	return startNodeIn(t, t.TempDir(), name, ip, db, rtp, demo, extra...)
}

func startNodeIn(t *testing.T, dir, name, ip, db, rtp string, demo bool, extra ...string) *node {
	t.Helper()
	args := []string{"serve", "--data", dir, "--db", db, "--node", name, "--sip", ip + ":0", "--http", ip + ":0",
		"--public-ip", ip, "--rtp-ports", rtp, "--log-level", "warn", "--node-timeout", nodeTimeout.String()}
	if demo {
		args = append(args, "--demo")
	}
	args = append(args, extra...)
	n := &node{name: name, ip: ip, p: startProc(t, nil, args...)}
	n.http = n.p.baseURL(t, 30*time.Second)
	m := sipRE.FindStringSubmatch(n.p.stdout.String())
	if m == nil {
		t.Fatalf("node %s: no SIP address in the banner:\n%s", name, n.p.stdout)
	}
	n.sip = m[1]
	b, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	n.token = strings.TrimSpace(string(b))
	return n
}

// api calls n's API and decodes a 2xx body into v.
func (n *node) api(t *testing.T, method, path, body string, v any) int {
	t.Helper()
	code, _ := apitest.Client{Base: n.http + "/api/v1", Token: n.token, HTTP: &http.Client{Timeout: 10 * time.Second},
		Name: "node " + n.name}.Do(t, method, path, body, v)
	return code
}

type regJSON struct {
	Contact string `json:"contact"`
	Node    string `json:"node"`
}

// registration is where n's API says device is registered ("" = nowhere).
func (n *node) registration(t *testing.T, device string) string {
	t.Helper()
	var d struct {
		Registration []regJSON `json:"registration"`
	}
	if code := n.api(t, "GET", "/devices/"+device, "", &d); code != http.StatusOK {
		t.Fatalf("node %s: GET /devices/%s: %d", n.name, device, code)
	}
	var nodes []string
	for _, r := range d.Registration {
		nodes = append(nodes, r.Node)
	}
	return strings.Join(nodes, ",")
}

func (n *node) loggedIn(t *testing.T, device string) string {
	t.Helper()
	var d struct {
		LoggedIn *string `json:"logged_in"`
	}
	if code := n.api(t, "GET", "/devices/"+device, "", &d); code != http.StatusOK {
		t.Fatalf("node %s: GET /devices/%s: %d", n.name, device, code)
	}
	if d.LoggedIn == nil {
		return ""
	}
	return *d.LoggedIn
}

func phoneAt(t *testing.T, n *node, device, password string) *siptest.Phone {
	t.Helper()
	p := siptest.New(t, siptest.Options{Server: n.sip, User: device, Password: password, Domain: "hotdesk.local"})
	p.MustRegister(t)
	return p
}

func phoneLogin(t *testing.T, p *siptest.Phone, code string) {
	t.Helper()
	c, err := p.Dial(code)
	if err != nil {
		t.Fatalf("%s dials %s: %v", p.User(), code, err)
	}
	if err := c.WaitBye(15 * time.Second); err != nil {
		t.Fatalf("%s dials %s: no BYE after the prompt: %v", p.User(), code, err)
	}
}
