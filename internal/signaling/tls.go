package signaling

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TLSHandshakeTimeout bounds a SIP TLS handshake. It runs in the
// connection's own read goroutine, never in the accept loop, so a client
// that stalls or sends garbage holds only its own connection.
const TLSHandshakeTimeout = 10 * time.Second

// ServerTLSConfig is the TLS configuration of the SIP listener: TLS 1.2 or
// later with forward-secret AEAD suites only (TLS 1.3 suites are fixed by
// Go and all modern).
func ServerTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// handshake runs the TLS server handshake of a new connection once, under
// TLSHandshakeTimeout (or the first-message limit when shorter). A failure
// is counted and logged at most once per source per interval, and closes
// the connection.
func (c *guardConn) handshake() error {
	tc, ok := c.Conn.(*tls.Conn)
	if !ok || c.handshaken {
		return nil
	}
	c.handshaken = true
	limit := min(TLSHandshakeTimeout, c.l.limits.FirstMessage)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	err := tc.HandshakeContext(ctx)
	if err == nil {
		return nil
	}
	c.l.s.guard.tlsFailed.Inc()
	if first, _ := c.l.s.guard.limit("tls " + c.ip); first {
		c.l.s.guard.log.Warn("sip: TLS handshake failed (logged once per source per interval)",
			"src", c.RemoteAddr().String(), "error", truncate(err.Error(), 160), "interval", BadInputInterval)
	}
	c.Close()
	return io.EOF // sipgo closes quietly on EOF
}

// TLSAddr is the bound TLS address, or nil.
func (s *Server) TLSAddr() *net.TCPAddr {
	if s.tls == nil {
		return nil
	}
	return s.tls.Addr().(*net.TCPAddr)
}

// bindTLS opens the TLS listener (plain TCP under the same caps as the TCP
// listener; each accepted connection is wrapped in a TLS server).
func (s *Server) bindTLS() error {
	if s.opts.TLSAddr == "" || s.opts.TLSConfig == nil {
		return nil
	}
	l, err := net.Listen("tcp", s.opts.TLSAddr)
	if err != nil {
		return err
	}
	s.tls = newGuardListener(l, s, s.opts.TCP)
	s.tls.tlsConf = s.opts.TLSConfig
	return nil
}

// Secure reports whether req came over TLS (its Via names TLS, or the
// connection it came on is TLS): the only signalling SRTP keys may be
// sent over (RFC 4568 section 8.3).
func Secure(req *sip.Request) bool {
	return strings.EqualFold(req.Transport(), "TLS")
}
