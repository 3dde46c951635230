// Package mailtest is a small SMTP server on loopback for tests, written
// with net/textproto: EHLO, STARTTLS (with a siptest.SelfSigned certificate), AUTH
// PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. Sessions can be made to fail.
package mailtest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// User and Password are the AUTH PLAIN credentials the server accepts.
const (
	User     = "pbx"
	Password = "s3cret"
)

// Server is the SMTP server Start runs until the test ends.
type Server struct {
	// TLS is its STARTTLS configuration (nil: no STARTTLS offered) and
	// Roots the pool that trusts its certificate.
	TLS   *tls.Config
	Roots *x509.CertPool
	// Fail says how the n-th session (from 0) fails: "drop" closes the
	// connection after the greeting, "451" refuses MAIL FROM; "" works.
	// Set it before the first session.
	Fail []string

	ln       net.Listener
	mu       sync.Mutex
	sessions int
	got      []Message
	authed   []string // users that authenticated, per session
}

// Message is one accepted message.
type Message struct {
	From, To string
	Data     string
	TLS      bool
	User     string
}

// Start runs a server on 127.0.0.1 until the test ends, offering
// STARTTLS when withTLS.
func Start(tb testing.TB, withTLS bool) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{ln: ln}
	if withTLS {
		c := siptest.SelfSigned(tb)
		s.TLS, s.Roots = &tls.Config{Certificates: []tls.Certificate{c.TLS}}, c.Roots
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	return s
}

// Port is the server's TCP port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Messages are the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// Wait waits up to d for n messages and returns them all; it fails the
// test when fewer came.
func (s *Server) Wait(tb testing.TB, n int, d time.Duration) []Message {
	tb.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got := s.Messages(); len(got) >= n {
			return got
		}
	}
	tb.Fatalf("SMTP server got %d messages, want %d", len(s.Messages()), n)
	return nil
}

// Auths are the users that authenticated, one per session that did.
func (s *Server) Auths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authed...)
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	s.mu.Lock()
	n := s.sessions
	s.sessions++
	mode := ""
	if n < len(s.Fail) {
		mode = s.Fail[n]
	}
	s.mu.Unlock()
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 test.local ESMTP")
	if mode == "drop" {
		return
	}
	var cur Message
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"test.local"}
			if s.TLS != nil && !cur.TLS {
				lines = append(lines, "STARTTLS")
			}
			lines = append(lines, "AUTH PLAIN", "8BITMIME")
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				_ = tp.PrintfLine("250%s%s", sep, l)
			}
		case "STARTTLS":
			if s.TLS == nil || cur.TLS {
				_ = tp.PrintfLine("502 no")
				continue
			}
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, tp, cur = tc, textproto.NewConn(tc), Message{TLS: true}
		case "AUTH":
			mech, b64, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(b64)
			parts := strings.Split(string(raw), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || err != nil || len(parts) != 3 || parts[1] != User || parts[2] != Password {
				_ = tp.PrintfLine("535 5.7.8 bad credentials")
				continue
			}
			cur.User = parts[1]
			s.mu.Lock()
			s.authed = append(s.authed, parts[1])
			s.mu.Unlock()
			_ = tp.PrintfLine("235 2.7.0 ok")
		case "MAIL":
			if mode == "451" {
				_ = tp.PrintfLine("451 4.3.0 try again later")
				continue
			}
			cur.From = between(arg)
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			cur.To = between(arg)
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 end with .")
			b, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			cur.Data = string(b)
			s.mu.Lock()
			s.got = append(s.got, cur)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("500 what")
		}
	}
}

// between is the address in <…> of a MAIL or RCPT argument.
func between(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}
