package siptest

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// TestSelfSignedServesTLS: a client trusting Roots completes a handshake
// with a server presenting TLS, for 127.0.0.1 and for pbx.test, and the
// PEM pair loads as the same certificate.
func TestSelfSignedServesTLS(t *testing.T) {
	c := SelfSigned(t)
	pair, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if string(pair.Certificate[0]) != string(c.TLS.Certificate[0]) {
		t.Fatal("the PEM certificate is not the TLS one")
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	ServeConns(t, ln, func(conn net.Conn) {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		_ = conn.(*tls.Conn).Handshake()
		conn.Read(make([]byte, 1))
	})
	for _, name := range []string{"127.0.0.1", "pbx.test"} {
		d := &net.Dialer{Timeout: 10 * time.Second}
		conn, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), &tls.Config{RootCAs: c.Roots, ServerName: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		conn.Close()
	}
	if _, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		t.Fatal("a client without Roots trusted the certificate")
	}
}
