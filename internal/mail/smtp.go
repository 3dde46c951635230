package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// send runs one SMTP session for m: EHLO, STARTTLS when required (refused
// if the server does not offer it: credentials never go in clear), AUTH
// PLAIN when a username is set, then the message.
func (b *Outbox) send(ctx context.Context, s hotdesk.MailSettings, m *hotdesk.Mail) error {
	if !s.Enabled || s.Host == "" {
		return fmt.Errorf("mail is not configured")
	}
	port := s.Port
	if port == 0 {
		port = 587
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(b.o.Hostname); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if s.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("the server does not offer STARTTLS")
		}
		if err := c.StartTLS(&tls.Config{ServerName: s.Host, RootCAs: b.o.RootCAs, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	msg, err := b.message(s, m)
	if err != nil {
		return err
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	_ = c.Quit() // the message is accepted; a lost QUIT answer changes nothing
	return nil
}

// message is m as an RFC 5322 message: a text part and the WAV attached.
func (b *Outbox) message(s hotdesk.MailSettings, m *hotdesk.Mail) ([]byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	hdr("From", (&mailAddress{"Hotdesk PBX", s.From}).String())
	hdr("To", "<"+clean(m.To)+">")
	hdr("Subject", mime.QEncoding.Encode("utf-8", clean(m.Subject)))
	hdr("Date", m.CreatedAt.Format(time.RFC1123Z))
	hdr("Message-ID", fmt.Sprintf("<voicemail-%d.%d@%s>", m.ID, m.CreatedAt.Unix(), b.o.Hostname))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/mixed; boundary="`+mw.Boundary()+`"`)
	buf.WriteString("\r\n")

	text, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return nil, err
	}
	qp := quotedprintable.NewWriter(text)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	if m.AttachmentName != "" {
		name := clean(m.AttachmentName)
		att, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType("audio/wav", map[string]string{"name": name})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(m.Attachment)
		for len(enc) > 76 {
			att.Write([]byte(enc[:76] + "\r\n"))
			enc = enc[76:]
		}
		att.Write([]byte(enc + "\r\n"))
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type mailAddress struct{ name, addr string }

func (a *mailAddress) String() string {
	return mime.QEncoding.Encode("utf-8", a.name) + " <" + clean(a.addr) + ">"
}

// clean drops control characters (no header injection through a caller
// name or an address).
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
