package interop

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// linphone drives one linphonec process through its stdin. linphonec runs
// with --pipe: only in that mode does it read stdin from a thread and
// iterate the core every 20 ms (with readline on a pipe the core never
// runs). That thread keeps only the last line read, so lines are sent
// 200 ms apart. --pipe also creates the socket /tmp/linphonec-<uid>.
type linphone struct {
	dir   string
	stdin io.WriteCloser
	mu    sync.Mutex
	lines []string
	seen  int // lines already matched by waitLine
	log   string
}

const (
	linphoneUDPPort = 5072
	linphoneTCPPort = 5073
	linphoneRTPPort = 31000
)

// startLinphone writes a linphonerc with two accounts — HD00002 over UDP
// (the hot desk phone) and soft205 over TCP (user 205's softphone) — DTMF
// as SIP INFO, and starts linphonec with auto-answer, playing tone as the
// microphone.
func startLinphone(t *testing.T, tone string) *linphone {
	t.Helper()
	rc := fmt.Sprintf(`[sip]
sip_port=%d
sip_tcp_port=%d
sip_tls_port=0
use_info=1
use_rfc2833=0
default_proxy=0
ping_with_options=0
inc_timeout=30

[rtp]
audio_rtp_port=%d

[sound]
echocancellation=0

[video]
display=0
capture=0

[proxy_0]
reg_proxy=<sip:127.0.0.1:5060;transport=udp>
reg_route=<sip:127.0.0.1:5060;transport=udp;lr>
reg_identity="Desk 1.02" <sip:HD00002@hotdesk.local>
reg_expires=600
reg_sendregister=1
publish=0

[proxy_1]
reg_proxy=<sip:127.0.0.1:5060;transport=tcp>
reg_route=<sip:127.0.0.1:5060;transport=tcp;lr>
reg_identity="Eva" <sip:soft205@hotdesk.local>
reg_expires=600
reg_sendregister=1
publish=0

[auth_info_0]
username=HD00002
passwd=demo-HD00002-secret
realm=hotdesk.local
domain=hotdesk.local

[auth_info_1]
username=soft205
passwd=demo-soft205-secret
realm=hotdesk.local
domain=hotdesk.local
`, linphoneUDPPort, linphoneTCPPort, linphoneRTPPort)
	return startLinphoneRC(t, tone, rc)
}

// startLinphoneRC starts linphonec with the linphonerc text rc.
func startLinphoneRC(t *testing.T, tone, rc string) *linphone {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "linphone")
	// liblinphone does not start its core when its database directory
	// is missing.
	if err := os.MkdirAll(filepath.Join(dir, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	rcPath := filepath.Join(dir, "linphonerc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	l := &linphone{dir: dir, log: filepath.Join(dir, "linphone.log")}
	cmd := exec.Command("linphonec", "--pipe", "-a", "-c", rcPath, "-d", "6", "-l", l.log)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.SysProcAttr = dieWithTest()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start linphonec: %v", err)
	}
	l.stdin = stdin
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			l.mu.Lock()
			l.lines = append(l.lines, s.Text())
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		// linphonec 5.1 ignores "quit" and SIGTERM while its core runs.
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			l.mu.Lock()
			t.Logf("---- linphonec stdout:\n%s", strings.Join(l.lines, "\n"))
			l.mu.Unlock()
			dumpFile(t, "linphone debug log", l.log)
		}
	})
	// Until the core is up, lines are read and dropped: repeat the first
	// command until it is answered.
	deadline := time.Now().Add(15 * time.Second)
	for !l.has("Using wav files") {
		if time.Now().After(deadline) {
			t.Fatalf("linphonec never took commands")
		}
		l.send(t, "soundcard use files")
		time.Sleep(300 * time.Millisecond)
	}
	l.send(t, "play "+tone)
	time.Sleep(300 * time.Millisecond)
	l.send(t, "record "+filepath.Join(dir, "heard.wav"))
	time.Sleep(300 * time.Millisecond)
	return l
}

// send types one line.
func (l *linphone) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(l.stdin, line+"\n"); err != nil {
		t.Fatalf("linphonec: write %q: %v", line, err)
	}
	time.Sleep(200 * time.Millisecond)
}

// waitLine waits for a stdout line, printed after the last matched one,
// containing every part.
func (l *linphone) waitLine(t *testing.T, timeout time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		l.mu.Lock()
		for i := l.seen; i < len(l.lines); i++ {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l.lines[i], p)
			}
			if ok {
				l.seen = i + 1
				line := l.lines[i]
				l.mu.Unlock()
				return line
			}
		}
		l.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("linphonec: no line with %q within %s", parts, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// has reports whether linphonec printed a line containing s.
func (l *linphone) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// skip marks what linphonec printed so far as seen.
func (l *linphone) skip() {
	l.mu.Lock()
	l.seen = len(l.lines)
	l.mu.Unlock()
}

// keypad types digits on one line; linphonec sends one SIP INFO
// (application/dtmf-relay, with use_info=1) per digit. It also tries to
// play each tone locally and, with no sound card, stalls about a second
// per digit; lines typed meanwhile would be lost, hence one line.
func (l *linphone) keypad(t *testing.T, digits string) {
	t.Helper()
	l.send(t, digits)
}

// linphoneRTP and linphoneSIP match linphonec's ports. It listens on all
// addresses and its packets to the PBX leave from 127.0.0.1, so only the
// port tells.
func linphoneRTP(p netip.AddrPort) bool { return p.Port() == linphoneRTPPort }

func linphoneSIP(p netip.AddrPort) bool { return p.Port() == linphoneUDPPort }
