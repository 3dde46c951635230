package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Files of the self-signed SIP TLS certificate in the data directory.
const (
	sipCertFile = "sip-tls.crt"
	sipKeyFile  = "sip-tls.key"
)

// selfSignedValidity is how long a generated certificate is valid. Phones
// pin it (or its fingerprint), so it must not expire under them soon.
const selfSignedValidity = 10 * 365 * 24 * time.Hour

// sipCertificate is the SIP TLS certificate: --tls-cert/--tls-key when
// given (the HTTPS pair), else the data directory's self-signed one,
// generated on first start. generated reports a new one.
func (c Config) sipCertificate(publicIP string) (cert tls.Certificate, generated bool, err error) {
	if c.TLSCert != "" && c.TLSKey != "" {
		cert, err = tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return cert, false, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		return cert, false, nil
	}
	crt, key := filepath.Join(c.DataDir, sipCertFile), filepath.Join(c.DataDir, sipKeyFile)
	cert, err = tls.LoadX509KeyPair(crt, key)
	if err == nil {
		return cert, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return cert, false, fmt.Errorf("SIP TLS certificate in the data dir: %w", err)
	}
	names := certNames(c.Domain, publicIP)
	certPEM, keyPEM, err := generateSelfSigned(names, time.Now())
	if err != nil {
		return cert, false, err
	}
	// The key first and private: a crash between the two writes leaves a
	// key without a certificate, which the next start regenerates.
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		return cert, false, fmt.Errorf("write SIP TLS key: %w", err)
	}
	if err := os.WriteFile(crt, certPEM, 0o644); err != nil {
		return cert, false, fmt.Errorf("write SIP TLS certificate: %w", err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	return cert, true, err
}

// certNames are the subject alternative names of a generated
// certificate: the SIP domain, this host's name and the public address.
func certNames(domain, publicIP string) []string {
	names := []string{domain}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, h)
	}
	if publicIP != "" {
		names = append(names, publicIP)
	}
	slices.Sort(names[1:])
	return slices.Compact(names)
}

// generateSelfSigned makes an ECDSA P-256 certificate for names (host names and IP
// addresses), PEM encoded.
func generateSelfSigned(names []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate SIP TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{"Hotdesk PBX"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		// Self-signed: it is its own CA, so a phone can import it as one.
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create SIP TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// Fingerprint is the SHA-256 fingerprint of a DER certificate, as
// colon-separated upper-case hex (the form phones and openssl show).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
