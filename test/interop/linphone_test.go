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
	rc := linphoneRC(fmt.Sprintf("sip_port=%d\nsip_tcp_port=%d\nsip_tls_port=0\ninc_timeout=30\n", linphoneUDPPort, linphoneTCPPort),
		linphoneRTPPort,
		linphoneAccount{"udp", 5060, "Desk 1.02", "HD00002"},
		linphoneAccount{"tcp", 5060, "Eva", "soft205"})
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
