package interop

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInteropTLS: baresip registers over SIP TLS (port 5061, the PBX's
// self-signed certificate as its CA file) with SRTP mandatory
// (mediaenc=srtp-mand: RTP/SAVP with SDES keys), logs in with
// *35*201*1234 and out with *77*5*: both calls are answered (with SRTP,
// or baresip would hang up at once) and change the login. HD00001 is set
// to srtp=required first, so a plain RTP answer is impossible.
func TestInteropTLS(t *testing.T) {
	if os.Getenv(envInner) == "" {
		runInNamespace(t)
		return
	}
	setUpNamespace(t)
	pbx := startPBX(t, os.Getenv(envBinary))
	ca := filepath.Join(pbx.dir, "data", "sip-tls.crt")
	if _, err := os.Stat(ca); err != nil {
		t.Fatalf("no self-signed SIP certificate in the data dir: %v", err)
	}
	pbx.patch(t, "/api/v1/devices/HD00001", `{"srtp":"required"}`)
	tone := writeTone(t)
	bs := startBaresip(t, baresipOpts{name: "baresip-HD00001-tls", device: "HD00001", transport: "tls",
		sipPort: 5081, ctrlPort: 4454, rtpLow: 30400, tone: tone,
		extraConfig:   "module srtp.so\nsip_cafile " + ca + "\n",
		accountParams: ";mediaenc=srtp-mand"})

	t.Run("RegisterOverTLS", func(t *testing.T) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			var d apiDevice
			pbx.get(t, "/api/v1/devices/HD00001", &d)
			if len(d.Registration) > 0 && d.Registration[0].Transport == "tls" {
				t.Logf("HD00001 registered: %+v", d.Registration)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no TLS registration of HD00001: %+v; baresip events %v", d.Registration, bs.eventsSeen())
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("LoginWithSRTP", func(t *testing.T) {
		bs.dialAnswered(t, "*35*201*1234")
		closed := bs.waitEvent(t, 20*time.Second, "CALL_CLOSED")
		t.Logf("baresip: login call closed: %q", closed.Param)
		pbx.waitLogin(t, "HD00001", "201")
		wantSRTPInLog(t, bs, 0)
	})
	t.Run("CallBetweenPhonesWithSRTP", func(t *testing.T) {
		// HD00002 over TLS too, logged in as 202: the keys pass through
		// the PBX end to end (both legs are TLS).
		bs2 := startBaresip(t, baresipOpts{name: "baresip-HD00002-tls", device: "HD00002", transport: "tls",
			sipPort: 5085, ctrlPort: 4455, rtpLow: 30500, tone: tone,
			extraConfig:   "module srtp.so\nsip_cafile " + ca + "\n",
			accountParams: ";mediaenc=srtp-mand"})
		bs2.waitEvent(t, 10*time.Second, "REGISTER_OK")
		bs2.dialAnswered(t, "*35*202*1234")
		bs2.waitEvent(t, 20*time.Second, "CALL_CLOSED")
		pbx.waitLogin(t, "HD00002", "202")
		from1, from2 := logSize(bs), logSize(bs2)
		bs2.drain()
		bs.drain()
		bs.cmd(t, "dial", "sip:202@hotdesk.local")
		bs2.waitEvent(t, 10*time.Second, "CALL_INCOMING")
		bs2.cmd(t, "accept", "")
		bs.waitEvent(t, 10*time.Second, "CALL_ESTABLISHED")
		time.Sleep(2 * time.Second)
		bs.cmd(t, "hangup", "")
		bs.waitEvent(t, 10*time.Second, "CALL_CLOSED")
		bs2.waitEvent(t, 10*time.Second, "CALL_CLOSED")
		wantSRTPInLog(t, bs, from1)
		wantSRTPInLog(t, bs2, from2)
	})
	t.Run("LinphoneOverTLSWithSRTP", func(t *testing.T) {
		// linphonec over TLS with SRTP mandatory, trusting the PBX's
		// certificate as its root CA: logs HD00003 in as 203.
		lp := startLinphoneRC(t, tone, linphoneRC(fmt.Sprintf("sip_port=0\nsip_tcp_port=0\nsip_tls_port=5074\nroot_ca=%s\n"+
			"verify_server_certs=1\nverify_server_cn=0\nmedia_encryption=srtp\nmedia_encryption_mandatory=1\n", ca),
			31100, linphoneAccount{"tls", 5061, "Desk 2.01", "HD00003"}))
		deadline := time.Now().Add(15 * time.Second)
		for {
			var d apiDevice
			pbx.get(t, "/api/v1/devices/HD00003", &d)
			if len(d.Registration) > 0 && d.Registration[0].Transport == "tls" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("linphonec: no TLS registration of HD00003: %+v", d.Registration)
			}
			time.Sleep(200 * time.Millisecond)
		}
		lp.skip()
		lp.send(t, "call sip:*35*203*1234@hotdesk.local")
		lp.waitLine(t, 15*time.Second, "connected")
		lp.waitLine(t, 25*time.Second, "ended")
		pbx.waitLogin(t, "HD00003", "203")
		b, _ := os.ReadFile(lp.log)
		if !bytes.Contains(b, []byte("Negotiated media encryption is LinphoneMediaEncryptionSRTP")) {
			t.Errorf("linphonec did not negotiate SRTP")
		}
		// What linphonec decrypted and played is recorded: the prompt,
		// not silence or noise from a wrong key (auth fails: nothing).
		if rms := wavRMS(t, filepath.Join(filepath.Dir(lp.log), "heard.wav")); rms < 300 {
			t.Errorf("linphonec heard RMS %.0f: no prompt came through SRTP", rms)
		} else {
			t.Logf("linphonec heard the prompt through SRTP (RMS %.0f)", rms)
		}
	})
	t.Run("LogoutWithSRTP", func(t *testing.T) {
		bs.dialAnswered(t, "*77*5*")
		bs.waitEvent(t, 20*time.Second, "CALL_CLOSED")
		deadline := time.Now().Add(5 * time.Second)
		for pbx.loginsByDevice(t)["HD00001"] != "" {
			if time.Now().After(deadline) {
				t.Fatalf("HD00001 still logged in after *77*5* over TLS")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// wantSRTPInLog checks baresip's log from offset on: SRTP negotiated
// (mediaenc=srtp-mand takes only an SDP with a key it can use) and
// incoming media established, which its srtp module reports only for
// packets that decrypted and authenticated.
func wantSRTPInLog(t *testing.T, bs *baresip, offset int) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(bs.dir, "baresip.log"))
	b = b[min(offset, len(b)):]
	for _, want := range []string{"SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)", "incoming rtp for 'audio' established"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s: log lacks %q:\n%s", bs.name, want, tail(b, 3000))
		}
	}
}

func logSize(bs *baresip) int {
	b, _ := os.ReadFile(filepath.Join(bs.dir, "baresip.log"))
	return len(b)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// patch sends an API PATCH with a JSON body and wants a 2xx.
func (p *pbx) patch(t *testing.T, path, body string) {
	t.Helper()
	req, _ := http.NewRequest("PATCH", "http://127.0.0.1:8080"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PATCH %s: %v", path, err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("PATCH %s: %d %s", path, res.StatusCode, out)
	}
}

// wavRMS is the RMS of a 16-bit WAV's samples (after its 44-byte header).
func wavRMS(t *testing.T, path string) float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 44+1600 {
		t.Errorf("%s: %d bytes, %v", path, len(b), err)
		return 0
	}
	var sum float64
	n := 0
	for i := 44; i+1 < len(b); i += 2 {
		v := float64(int16(binary.LittleEndian.Uint16(b[i:])))
		sum += v * v
		n++
	}
	return math.Sqrt(sum / float64(n))
}
