package interop

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
	"github.com/hotdesk-pbx/hotdesk/internal/web/apitest"
)

// pbx is the real `hotdesk serve --demo` with every other setting at its
// default: SIP on :5060 (UDP and TCP), HTTP on :8080 — free, since the
// namespace is new.
type pbx struct {
	bin, dir string
	token    string
	log      *os.File
	cmd      *exec.Cmd
}

func startPBX(t *testing.T, bin string) *pbx {
	t.Helper()
	if bin == "" {
		t.Fatalf("%s is not set", envBinary)
	}
	p := &pbx{bin: bin, dir: t.TempDir()}
	log, err := os.Create(filepath.Join(p.dir, "hotdesk.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.log = log
	t.Cleanup(func() {
		p.stop()
		log.Close()
		if t.Failed() {
			dumpFile(t, "hotdesk log", log.Name())
		}
	})
	p.start(t)
	tok, err := os.ReadFile(filepath.Join(p.dir, "data", "admin-token"))
	if err != nil {
		t.Fatalf("admin token: %v", err)
	}
	p.token = strings.TrimSpace(string(tok))
	return p
}

// start runs hotdesk serve and waits until /healthz answers.
func (p *pbx) start(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(p.bin, "serve", "--demo", "--data", filepath.Join(p.dir, "data"))
	p.cmd.Dir = p.dir
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = dieWithTest()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start hotdesk: %v", err)
	}
	testrun.WaitHealthy(t, nil, "http://127.0.0.1:8080/healthz", 20*time.Second)
}

// stop interrupts hotdesk (a graceful stop) and waits for it to exit.
func (p *pbx) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}

// restart stops and starts hotdesk on the same data directory.
func (p *pbx) restart(t *testing.T) {
	t.Helper()
	p.stop()
	p.start(t)
}

// post sends an API request with no body and wants a 2xx.
func (p *pbx) post(t *testing.T, path string) {
	t.Helper()
	if code, body := p.api(t, "POST", path); code/100 != 2 {
		t.Fatalf("POST %s: %d %s", path, code, body)
	}
}

// get fetches an API path and decodes its JSON into out.
func (p *pbx) get(t *testing.T, path string, out any) {
	t.Helper()
	code, body := p.api(t, "GET", path)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// api sends an API request with no body as the admin and returns the
// status and body.
func (p *pbx) api(t *testing.T, method, path string) (int, []byte) {
	t.Helper()
	return apitest.Client{Base: "http://127.0.0.1:8080", Token: p.token}.Do(t, method, path, "", nil)
}

type apiLogin struct {
	Extension string `json:"extension"`
	Device    string `json:"device"`
	Via       string `json:"via"`
}

type apiDevice struct {
	ID           string `json:"id"`
	Registration []struct {
		Contact   string `json:"contact"`
		Transport string `json:"transport"`
		UserAgent string `json:"user_agent"`
	} `json:"registration"`
}

type apiCall struct {
	Direction string     `json:"direction"`
	Peer      string     `json:"peer"`
	Device    string     `json:"device"`
	Answer    *time.Time `json:"answer"`
	End       *time.Time `json:"end"`
	Result    string     `json:"result"`
}

// loginsByDevice is GET /api/v1/logins as device → extension.
func (p *pbx) loginsByDevice(t *testing.T) map[string]string {
	t.Helper()
	var ls []apiLogin
	p.get(t, "/api/v1/logins", &ls)
	m := map[string]string{}
	for _, l := range ls {
		m[l.Device] = l.Extension
	}
	return m
}

// waitLogin polls GET /api/v1/logins until device holds ext.
func (p *pbx) waitLogin(t *testing.T, device, ext string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := p.loginsByDevice(t)
		if m[device] == ext {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/v1/logins: want %s at %s, have %v", ext, device, m)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeTone writes a 440 Hz, 8 kHz mono 16-bit WAV: the clients' microphone.
func writeTone(t *testing.T) string {
	t.Helper()
	const rate, secs = 8000, 20
	samples := make([]byte, rate*secs*2)
	for i := 0; i < rate*secs; i++ {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
		binary.LittleEndian.PutUint16(samples[2*i:], uint16(v))
	}
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+len(samples)))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1) // PCM
	binary.LittleEndian.PutUint16(hdr[22:], 1) // mono
	binary.LittleEndian.PutUint32(hdr[24:], rate)
	binary.LittleEndian.PutUint32(hdr[28:], rate*2)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(len(samples)))
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := os.WriteFile(path, append(hdr, samples...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
