package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// Request headers of a delivery.
const (
	HeaderEvent     = "X-Hotdesk-Event"     // the event kind, e.g. "login"
	HeaderDelivery  = "X-Hotdesk-Delivery"  // the delivery id (stable across retries)
	HeaderTimestamp = "X-Hotdesk-Timestamp" // unix seconds of this attempt
	HeaderSignature = "X-Hotdesk-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp "." body)
)

// Sign returns the signature header value for body sent at unix time ts:
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)). Signing the
// timestamp with the body lets receivers refuse replays of old deliveries.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Sign(secret, ts, body), comparing in
// constant time.
func Verify(secret string, ts int64, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature))
}

// ErrBadSignature is returned by VerifyRequest for a missing, stale or
// wrong signature.
var ErrBadSignature = errors.New("webhook: bad signature")

// VerifyRequest reads r's body (up to 1 MiB) and checks its signature and
// that its timestamp is within maxSkew of now. For receivers and tests.
func VerifyRequest(r *http.Request, secret string, now time.Time, maxSkew time.Duration) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("webhook: read body: %w", err)
	}
	ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return body, fmt.Errorf("%w: no timestamp", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return body, fmt.Errorf("%w: timestamp %d outside %v", ErrBadSignature, ts, maxSkew)
	}
	if !Verify(secret, ts, body, r.Header.Get(HeaderSignature)) {
		return body, ErrBadSignature
	}
	return body, nil
}

// ValidateURL checks a webhook URL: https://, or http:// to a loopback host
// only (local receivers and tests). Errors are EINVALID naming field "url".
func ValidateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return hotdesk.Invalidf("url", "URL must be absolute, e.g. https://example.com/hook.")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return hotdesk.Invalidf("url", "URL must use https:// (http:// is allowed for loopback addresses only).")
	}
	return hotdesk.Invalidf("url", "URL must use https://.")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
