package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// tlsProvider is a SIP provider's TLS proxy: it answers every REGISTER
// 200 and counts what it saw.
type tlsProvider struct {
	addr      string
	certPEM   []byte
	der       []byte
	registers atomic.Int32
	failed    atomic.Int32 // handshakes that failed
}

func startTLSProvider(t *testing.T) *tlsProvider {
	t.Helper()
	certPEM, keyPEM, err := generateSelfSigned([]string{"provider.test", "127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(certPEM)
	p := &tlsProvider{addr: ln.Addr().String(), certPEM: certPEM, der: blk.Bytes}
	siptest.ServeConns(t, ln, func(c net.Conn) { p.serve(c.(*tls.Conn)) })
	return p
}

func (p *tlsProvider) serve(c *tls.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		p.failed.Add(1)
		return
	}
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := c.Read(tmp)
		if err != nil {
			return
		}
		buf = append(buf, tmp[:n]...)
		for {
			i := bytes.Index(buf, []byte("\r\n\r\n"))
			if i < 0 {
				break
			}
			msg, err := sip.ParseMessage(buf[:i+4])
			buf = buf[i+4:]
			req, ok := msg.(*sip.Request)
			if err != nil || !ok || req.Method != sip.REGISTER {
				continue
			}
			p.registers.Add(1)
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			res.AppendHeader(sip.NewHeader("Expires", "3600"))
			c.Write([]byte(res.String()))
		}
	}
}

// TestTrunkTLSVerification: a TLS trunk with a self-signed certificate is
// refused against the system roots and with a wrong pinned fingerprint,
// and accepted when its fingerprint or its CA is pinned in the settings.
func TestTrunkTLSVerification(t *testing.T) {
	prov := startTLSProvider(t)
	fp := Fingerprint(prov.der)
	wrong := strings.Repeat("AB:", 31) + "AB"
	tests := []struct {
		name     string
		tls      hotdesk.TLSSettings
		register bool
	}{
		{"system roots refuse a self-signed certificate", hotdesk.TLSSettings{}, false},
		{"pinned fingerprint", hotdesk.TLSSettings{TrunkFingerprint: fp}, true},
		{"pinned fingerprint without colons, lower case", hotdesk.TLSSettings{TrunkFingerprint: strings.ToLower(strings.ReplaceAll(fp, ":", ""))}, true},
		{"pinned CA", hotdesk.TLSSettings{TrunkCA: string(prov.certPEM)}, true},
		{"wrong fingerprint", hotdesk.TLSSettings{TrunkFingerprint: wrong}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir, false)
			r := mustStart(t, cfg)
			st, err := r.Store().GetSettings(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			st.Trunk = hotdesk.Trunk{Enabled: true, Register: true, Proxy: prov.addr, Username: "pbx", Password: "secret",
				Domain: "provider.test", Transport: "tls"}
			st.TLS = tt.tls
			if err := r.Store().PutSettings(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			r.stop()
			// The next start registers at once with these settings.
			before, failedBefore := prov.registers.Load(), prov.failed.Load()
			r = mustStart(t, cfg)
			deadline := time.Now().Add(5 * time.Second)
			for {
				s := r.b2bua.TrunkStatus()
				if s.Registered || s.Error != "" || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			s := r.b2bua.TrunkStatus()
			got := prov.registers.Load() > before
			if got != tt.register || s.Registered != tt.register {
				t.Fatalf("REGISTER reached the provider: %v, status %+v; want registered %v", got, s, tt.register)
			}
			// The provider counts its side of a refused handshake after the
			// PBX has given up on it: wait for it, bounded.
			for wait := time.Now().Add(5 * time.Second); !tt.register && prov.failed.Load() == failedBefore && time.Now().Before(wait); {
				time.Sleep(10 * time.Millisecond)
			}
			if !tt.register && prov.failed.Load() == failedBefore {
				t.Errorf("no failed handshake at the provider: the PBX did not refuse the certificate in the handshake")
			}
		})
	}
}

// TestVerifyTrunkNames: with the system roots or a pinned CA the host name
// is checked, so a CA-signed certificate for another name is refused.
func TestVerifyTrunkNames(t *testing.T) {
	certPEM, _, err := generateSelfSigned([]string{"provider.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(certPEM)
	leaf, _ := x509.ParseCertificate(blk.Bytes)
	st := hotdesk.TLSSettings{TrunkCA: string(certPEM)}
	if err := verifyTrunk(tls.ConnectionState{ServerName: "provider.test", PeerCertificates: []*x509.Certificate{leaf}}, st); err != nil {
		t.Errorf("matching name under the pinned CA refused: %v", err)
	}
	if err := verifyTrunk(tls.ConnectionState{ServerName: "evil.test", PeerCertificates: []*x509.Certificate{leaf}}, st); err == nil {
		t.Error("a certificate for another name was accepted")
	}
	if err := verifyTrunk(tls.ConnectionState{ServerName: "provider.test"}, st); err == nil {
		t.Error("no certificate was accepted")
	}
}
