package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// writeRTPPcap writes pcm as a pcap sipp replays (mediatest.WritePcap).
func writeRTPPcap(tb testing.TB, path string, pcm []int16) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := mediatest.WritePcap(f, pcm); err != nil {
		tb.Fatal(err)
	}
}

// runSipp runs one call of scenario (test/sipp) in dir from 127.0.0.1:port
// and fails the test if sipp does.
func runSipp(tb testing.TB, r *running, dir, scenario string, port int, args ...string) {
	tb.Helper()
	bin := siptest.MustSipp(tb)
	sf, err := filepath.Abs(filepath.Join("..", "..", "test", "sipp", scenario))
	if err != nil {
		tb.Fatal(err)
	}
	all := append([]string{r.SIPAddr(), "-sf", sf, "-m", "1", "-t", "u1", "-i", "127.0.0.1", "-p", fmt.Sprint(port),
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(siptest.FreeMediaPorts(tb, "127.0.0.1")), "-nostdin", "-key", "domain", r.cfg.Domain,
		"-timeout", "40s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		tb.Fatalf("sipp %s: %v\n%s\nerrors:\n%s", scenario, err, siptest.LastLines(string(out), 6), siptest.LastLines(string(errs), 30))
	}
}

// sipp as the SIP provider delivers a call to 202's DID while 202 is
// logged in nowhere: the mailbox answers and records the RTP sipp replays
// from a pcap (3 s of a 440 Hz tone), intact. Then sipp as 202's desk
// phone dials *97, keys the PIN and 9 as RFC 4733 telephone-events, and
// the message is saved.
func TestSippVoicemailDepositAndRetrieve(t *testing.T) {
	cfg := testConfig(t.TempDir(), true)
	cfg.Digest = "MD5" // sipp 3.6 answers only an MD5 challenge
	r := mustStart(t, cfg)
	trunkPort := siptest.FreePort(t, "127.0.0.1")
	st, err := r.Store().GetSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st.Trunk.Sources = []string{fmt.Sprintf("127.0.0.1:%d", trunkPort)}
	vmPut(t, r, st, "202")

	dir := t.TempDir()
	writeRTPPcap(t, filepath.Join(dir, "vm_message.pcap"), mediatest.Tone(440, 3*time.Second))
	runSipp(t, r, dir, "voicemail_trunk_deposit.xml", trunkPort, "-s", "0201234202", "-key", "caller", "0612345678")
	msgs := waitMessages(t, r.Store(), "202", 1)
	v := msgs[0]
	if v.Caller != "+31612345678" && v.Caller != "0612345678" {
		t.Errorf("caller %q", v.Caller)
	}
	b, err := r.Store().VoicemailAudio(context.Background(), "202", v.ID)
	if err != nil {
		t.Fatal(err)
	}
	codec, raw, err := wav.G711Data(b)
	if err != nil {
		t.Fatal(err)
	}
	voiced := media.VoicedLength(codec, raw)
	pcm := g711.DecodeUlaw(nil, raw[:voiced])
	// The whole tone arrived (sipp starts it a little before the tone
	// ends on a slow machine: at least 2.5 s of it), and it is the tone.
	if voiced < 20000 || voiced > 24500 || mediatest.ToneFrames(pcm, 440) < voiced/160-3 {
		t.Fatalf("recorded %s: %d voiced samples, %d frames of the tone", codec, voiced, mediatest.ToneFrames(pcm, 440))
	}

	// 202 at HD00002 listens with sipp and saves the message with 9.
	if code := r.api(t, "POST", "/logins", `{"extension":"202","device":"HD00002"}`, nil); code != 200 && code != 201 {
		t.Fatalf("POST /logins: %d", code)
	}
	inf := filepath.Join(dir, "users.csv")
	line := fmt.Sprintf("SEQUENTIAL\nHD00002;[authentication username=HD00002 password=%s]\n", DemoPassword("HD00002"))
	if err := os.WriteFile(inf, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	runSipp(t, r, dir, "voicemail_retrieve.xml", siptest.FreePort(t, "127.0.0.1"), "-inf", inf, "-s", "*97")
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := r.Store().GetVoicemail(context.Background(), "202", v.ID)
		if err == nil && !got.New {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("message not saved by 9 from sipp: %+v %v", got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vmPut stores st (through the API) and enables voicemail for exts.
func vmPut(tb testing.TB, r *running, st hotdesk.Settings, exts ...string) {
	tb.Helper()
	vmSettings(tb, r, st.Voicemail, exts...)
	if code := r.api(tb, "PUT", "/settings", mustJSON(tb, st), nil); code != 200 {
		tb.Fatalf("PUT /settings: %d", code)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
