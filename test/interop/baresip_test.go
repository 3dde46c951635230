package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/follow"
)

// baresip drives one baresip process with one account through its
// ctrl_tcp module (netstring-framed JSON commands, responses and events).
type baresip struct {
	name     string
	dir      string
	rtpLow   int // its RTP port range, for the capture
	rtpHigh  int
	conn     net.Conn
	resp     chan bsMessage
	events   chan bsMessage
	mu       sync.Mutex
	eventLog []bsMessage
}

// bsMessage is a ctrl_tcp response or event.
type bsMessage struct {
	Response bool   `json:"response"`
	OK       bool   `json:"ok"`
	Data     string `json:"data"`
	Event    bool   `json:"event"`
	Class    string `json:"class"`
	Type     string `json:"type"`
	Param    string `json:"param"`
	PeerURI  string `json:"peeruri"`
}

type baresipOpts struct {
	name      string // log prefix
	device    string // demo device id
	transport string // udp or tcp
	sipPort   int    // its own SIP port on clientIP
	ctrlPort  int
	rtpLow    int
	tone      string // WAV played as the microphone
	// extraConfig is appended to the config file, accountParams to the
	// account line (TLS and SRTP tests).
	extraConfig, accountParams string
}

// startBaresip writes a config dir (-f) with file audio (aufile as the
// microphone, ALSA's null device as the speaker) and G.711 only, starts
// baresip and connects to its control port.
func startBaresip(t *testing.T, o baresipOpts) *baresip {
	t.Helper()
	dir := filepath.Join(t.TempDir(), o.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`poll_method epoll
sip_listen %s:%d
call_local_timeout 60
audio_player alsa,null
audio_alert alsa,null
audio_source aufile,%s
rtp_ports %d-%d
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module alsa.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
`, clientIP, o.sipPort, o.tone, o.rtpLow, o.rtpLow+99, o.ctrlPort) + o.extraConfig
	pbxPort := 5060
	if o.transport == "tls" {
		pbxPort = 5061
	}
	account := fmt.Sprintf("<sip:%s@hotdesk.local;transport=%s>;auth_pass=demo-%s-secret;outbound=\"sip:127.0.0.1:%d;transport=%s\";regint=600;audio_codecs=pcmu,pcma;answermode=manual%s\n",
		o.device, o.transport, o.device, pbxPort, o.transport, o.accountParams)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log, err := os.Create(filepath.Join(dir, "baresip.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("baresip", "-f", dir)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = dieWithTest()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start baresip: %v", o.name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
		if t.Failed() {
			dumpFile(t, o.name+" log", log.Name())
		}
	})
	b := &baresip{name: o.name, dir: dir, rtpLow: o.rtpLow, rtpHigh: o.rtpLow + 99,
		resp: make(chan bsMessage, 16), events: make(chan bsMessage, 256)}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", o.ctrlPort))
		if err == nil {
			b.conn = c
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: ctrl_tcp never listened: %v", o.name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { b.conn.Close() })
	go b.read()
	return b
}

// read splits the control stream into netstrings and files each message.
func (b *baresip) read() {
	r := bufio.NewReader(b.conn)
	for {
		lenText, err := r.ReadString(':')
		if err != nil {
			close(b.events)
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenText, ":")))
		if err != nil || n < 0 || n > 1<<20 {
			close(b.events)
			return
		}
		body := make([]byte, n+1) // the JSON and the trailing comma
		if _, err := io.ReadFull(r, body); err != nil {
			close(b.events)
			return
		}
		var m bsMessage
		if json.Unmarshal(body[:n], &m) != nil {
			continue
		}
		if m.Response {
			b.resp <- m
			continue
		}
		b.mu.Lock()
		b.eventLog = append(b.eventLog, m)
		b.mu.Unlock()
		select {
		case b.events <- m:
		default: // nobody waits for this many; the log keeps them
		}
	}
}

// cmd runs one baresip command (as typed after "/") and returns its output.
func (b *baresip) cmd(t *testing.T, command, params string) string {
	t.Helper()
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": command})
	if _, err := fmt.Fprintf(b.conn, "%d:%s,", len(msg), msg); err != nil {
		t.Fatalf("%s: send %s: %v", b.name, command, err)
	}
	select {
	case r := <-b.resp:
		if !r.OK {
			t.Fatalf("%s: /%s %s failed: %s", b.name, command, params, r.Data)
		}
		return r.Data
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no answer to /%s", b.name, command)
	}
	return ""
}

// waitEvent waits for an event of one of the types and returns it; it
// fails the test on timeout.
func (b *baresip) waitEvent(t *testing.T, timeout time.Duration, types ...string) bsMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		select {
		case e, ok := <-b.events:
			if !ok {
				t.Fatalf("%s: control connection closed while waiting for %v", b.name, types)
			}
			for _, typ := range types {
				if e.Type == typ {
					return e
				}
			}
		case <-ctx.Done():
			t.Fatalf("%s: no %v event within %s; events so far: %+v", b.name, types, timeout, b.eventsSeen())
		}
	}
}

// drain forgets queued events (from an earlier step).
func (b *baresip) drain() { follow.Discard(b.events) }

func (b *baresip) eventsSeen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.eventLog {
		out = append(out, e.Type+" "+e.Param)
	}
	return out
}

// dial calls target and waits until the call is answered.
func (b *baresip) dialAnswered(t *testing.T, target string) {
	t.Helper()
	b.drain()
	b.cmd(t, "dial", "sip:"+target+"@hotdesk.local")
	e := b.waitEvent(t, 15*time.Second, "CALL_ESTABLISHED", "CALL_CLOSED")
	if e.Type != "CALL_ESTABLISHED" {
		t.Fatalf("%s: call to %s closed before it was answered: %s", b.name, target, e.Param)
	}
}

// keypad sends digits as RFC 4733 telephone-events, one key press at a time
// like a person on a keypad.
func (b *baresip) keypad(t *testing.T, digits string) {
	t.Helper()
	for _, d := range digits {
		b.cmd(t, "sndcode", string(d))
		time.Sleep(300 * time.Millisecond)
	}
}

// rtpTo and rtpFrom report whether p is media to or from this baresip. It
// binds RTP to all addresses, so its packets to the PBX leave from
// 127.0.0.1 and the PBX answers there (symmetric RTP): only the port tells.
func (b *baresip) rtpTo(p rtpPkt) bool {
	port := int(p.Dst.Port())
	return port >= b.rtpLow && port <= b.rtpHigh
}

func (b *baresip) rtpFrom(p rtpPkt) bool {
	port := int(p.Src.Port())
	return port >= b.rtpLow && port <= b.rtpHigh
}

// dumpFile logs the tail of a file (client logs on failure).
func dumpFile(t *testing.T, what, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	t.Logf("---- %s (%s), tail:\n%s", what, path, b)
}
