package validate

import (
	"crypto/x509"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// SIPTransports are the SIP transports a phone can be provisioned with
// ("" is udp).
var SIPTransports = []string{"udp", "tcp", "tls"}

// SRTPModes are a device's SRTP policies ("" is optional).
var SRTPModes = []string{hotdesk.SRTPOff, hotdesk.SRTPOptional, hotdesk.SRTPRequired}

// TLS checks the TLS settings, naming fields prefix+json name.
func TLS(prefix string, t hotdesk.TLSSettings) []error {
	var errs []error
	if t.PhoneTransport != "" && !slices.Contains(SIPTransports, t.PhoneTransport) {
		errs = append(errs, hotdesk.Invalidf(prefix+"phone_transport", "Transport must be udp, tcp or tls."))
	}
	if strings.TrimSpace(t.TrunkCA) != "" {
		if _, ok := CAPool(t.TrunkCA); !ok {
			errs = append(errs, hotdesk.Invalidf(prefix+"trunk_ca", "Must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)."))
		}
	}
	if strings.TrimSpace(t.TrunkFingerprint) != "" {
		if _, ok := Fingerprint(t.TrunkFingerprint); !ok {
			errs = append(errs, hotdesk.Invalidf(prefix+"trunk_fingerprint", "Must be a SHA-256 fingerprint: 64 hex digits, colons allowed."))
		}
	}
	return errs
}

// Fingerprint parses a SHA-256 certificate fingerprint: 64 hex digits,
// optionally separated by colons, any case.
func Fingerprint(s string) ([]byte, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	b, err := hex.DecodeString(s)
	return b, err == nil && len(b) == 32
}

// CAPool parses PEM certificates into a pool; ok is false when there are
// none or one is malformed.
func CAPool(pemText string) (*x509.CertPool, bool) {
	pool := x509.NewCertPool()
	return pool, pool.AppendCertsFromPEM([]byte(pemText))
}

// SIPTransport checks a device's SIP transport ("" allowed).
func SIPTransport(field, v string) error {
	if v != "" && !slices.Contains(SIPTransports, v) {
		return hotdesk.Invalidf(field, "Transport must be udp, tcp or tls.")
	}
	return nil
}

// SRTP checks a device's SRTP policy ("" allowed).
func SRTP(field, v string) error {
	if v != "" && !slices.Contains(SRTPModes, v) {
		return hotdesk.Invalidf(field, "SRTP must be off, optional or required.")
	}
	return nil
}
