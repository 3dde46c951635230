package nat

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
	"github.com/hotdesk-pbx/hotdesk/internal/web/apitest"
)

// pbx is `hotdesk serve --demo` in the office namespace.
type pbx struct {
	http  *http.Client
	base  string
	token string
}

func startPBX(t *testing.T, bin string, tp *topology) *pbx {
	t.Helper()
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "hotdesk.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", tp.office, bin, "serve", "--demo", "--data", filepath.Join(dir, "data"),
		"--sip", pbxIP+":5060", "--http", pbxIP+":8080", "--public-ip", pbxIP, "--rtp-ports", "20000-20999",
		"--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("hotdesk log:\n%s", lastLines(string(b), 150))
			}
		}
	})
	p := &pbx{http: httpIn(tp.office), base: "http://" + pbxIP + ":8080"}
	testrun.WaitHealthy(t, p.http, p.base+"/healthz", 30*time.Second)
	tok, err := os.ReadFile(filepath.Join(dir, "data", "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	p.token = strings.TrimSpace(string(tok))
	return p
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// api calls the PBX's API and decodes the answer into out (when not nil).
func (p *pbx) api(t *testing.T, method, path, body string, out any) {
	t.Helper()
	if code, b := (apitest.Client{Base: p.base, Token: p.token, HTTP: p.http}).Do(t, method, path, body, out); code >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
}

// waitRTP waits until p has received at least n more RTP packets than
// before.
func waitRTP(t *testing.T, p *phone, before int32, n int32, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for p.rtpIn.Load() < before+n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s received %d RTP packets, want %d", what, p.user, p.rtpIn.Load()-before, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// talk streams 25 packets each way and checks both phones heard them
// (through the relay: each sends to the address the PBX gave it).
func talk(t *testing.T, a *phone, aTo string, b *phone, bTo string, what string) {
	t.Helper()
	ab, bb := a.rtpIn.Load(), b.rtpIn.Load()
	aAddr, bAddr := mediaAddr(t, aTo), mediaAddr(t, bTo)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.stream(aAddr, 25) }()
	go func() { defer wg.Done(); b.stream(bAddr, 25) }()
	wg.Wait()
	waitRTP(t, b, bb, 20, what)
	waitRTP(t, a, ab, 20, what)
}

// A phone behind NAT (home, 10.0.1.2, masqueraded onto 10.0.2.1 with other
// ports) registers, is kept reachable past the NAT's UDP timeout by the
// PBX's keep-alives, is called, calls out, holds and resumes, with audio
// both ways through the PBX's relay (issue 15 items 1-3).
func TestPhoneBehindNAT(t *testing.T) {
	tp := mustTopology(t)
	bin := buildHotdesk(t)
	pb := startPBX(t, bin, tp)
	pb.api(t, "PUT", "/api/v1/settings", `{"nat":{"keepalive_seconds":5}}`, nil)

	home := newPhone(t, tp.home, homeIP, "HD00001", "demo-HD00001-secret")
	office := newPhone(t, tp.office, officeIP, "soft205", "demo-soft205-secret")
	for _, p := range []*phone{home, office} {
		if res := p.register(); res.StatusCode != 200 {
			t.Fatalf("%s: REGISTER %d %s", p.user, res.StatusCode, res.Reason)
		}
	}

	// The binding is the flow: the NAT's address and port, marked NAT.
	var dev struct {
		Registration []struct {
			Contact, Source string
			NAT             bool
		}
	}
	pb.api(t, "GET", "/api/v1/devices/HD00001", "", &dev)
	if len(dev.Registration) != 1 || !dev.Registration[0].NAT || !strings.HasPrefix(dev.Registration[0].Source, routerOut+":") {
		t.Fatalf("home phone's registration %+v: want behind NAT from %s", dev.Registration, routerOut)
	}
	t.Logf("home phone's flow: %s (Contact %s)", dev.Registration[0].Source, dev.Registration[0].Contact)

	// Hot desking through the NAT: *35*201 and the PIN as RFC 4733 keys.
	// The PBX's prompt session latches to the phone's flow address (its
	// SDP names the private one), so the keys count (issue 15 item 5).
	d, ok := home.dial("*35*201")
	home.sendDigits(mediaAddr(t, string(ok.Body())), "1234#")
	var logins []struct{ Extension, Device string }
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		pb.api(t, "GET", "/api/v1/logins", "", &logins)
		if len(logins) == 1 && logins[0].Extension == "201" && logins[0].Device == "HD00001" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("201 not logged in at HD00001 by keys through the NAT: logins %+v", logins)
		}
	}
	if res := home.bye(d); res.StatusCode != 200 && res.StatusCode != 481 {
		t.Fatalf("BYE after login: %d", res.StatusCode)
	}

	// Idle for longer than the NAT keeps a UDP mapping: only the PBX's
	// keep-alives keep it, so the call below still reaches the phone.
	time.Sleep(natUDPTimeout + 4*time.Second)
	if n := home.options.Load(); n < 2 {
		t.Fatalf("home phone got %d keep-alives in %v at a 5 s interval", n, natUDPTimeout+4*time.Second)
	}

	// Called: the office phone calls 201, logged in at the home phone.
	go home.answer(10 * time.Second)
	d, ok = office.dial("201")
	if got := mediaAddr(t, string(ok.Body())); got.IP.String() != pbxIP {
		t.Fatalf("office phone got media at %v, want the relay on %s", got, pbxIP)
	}
	if got := mediaAddr(t, lastOffer(t, home)); got.IP.String() != pbxIP {
		t.Fatalf("home phone was offered media at %v, want the relay on %s", got, pbxIP)
	}
	talk(t, office, d.sdp, home, lastOffer(t, home), "called")
	if res := office.bye(d); res.StatusCode != 200 {
		t.Fatalf("office BYE: %d", res.StatusCode)
	}

	// Calls out, holds and resumes: each phone sends to the address the
	// PBX gave it (the home phone's 200, the office phone's last offer).
	go office.answer(10 * time.Second)
	d, _ = home.dial("205")
	talk(t, home, d.sdp, office, lastOffer(t, office), "called out")
	if res := home.reinvite(d, "sendonly"); res.StatusCode != 200 || !strings.Contains(d.sdp, "a=recvonly") {
		t.Fatalf("hold: %d\n%s", res.StatusCode, d.sdp)
	}
	if body := lastOffer(t, office); !strings.Contains(body, "a=sendonly") || mediaAddr(t, body).IP.String() != pbxIP {
		t.Fatalf("office phone's hold offer:\n%s", body)
	}
	if res := home.reinvite(d, "sendrecv"); res.StatusCode != 200 {
		t.Fatalf("resume: %d", res.StatusCode)
	}
	talk(t, home, d.sdp, office, lastOffer(t, office), "resumed")
	if res := home.bye(d); res.StatusCode != 200 {
		t.Fatalf("home BYE: %d", res.StatusCode)
	}
}

// lastOffer is the SDP of the last INVITE the phone got (initial or
// re-INVITE).
func lastOffer(t *testing.T, p *phone) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.inDialog) - 1; i >= 0; i-- {
		if r := p.inDialog[i]; r.Method == "INVITE" {
			return string(r.Body())
		}
	}
	t.Fatalf("%s got no INVITE", p.user)
	return ""
}
