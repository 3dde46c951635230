package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// sipTLSOptions sets the TLS listener and the client TLS of the SIP
// options: the certificate (loaded or generated now, so a bad file stops
// the start) and the trunk verification that reads the current settings
// at each handshake.
func (a *App) sipTLSOptions(o *signaling.Options, publicIP string) error {
	o.ClientTLS = trunkTLSConfig(func() hotdesk.TLSSettings { return a.settings.Get(context.Background()).TLS })
	addr := a.cfg.sipTLSAddr()
	if addr == "" {
		return nil
	}
	cert, generated, err := a.cfg.sipCertificate(publicIP)
	if err != nil {
		return err
	}
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		cert.Leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	a.sipCert, a.sipCertGenerated = cert.Leaf, generated
	o.TLSAddr, o.TLSConfig = addr, signaling.ServerTLSConfig(cert)
	return nil
}

// trunkTLSConfig verifies the certificate of a TLS trunk: against the
// pinned CA, or the system roots, with the host name checked; a pinned
// fingerprint instead accepts exactly that certificate. Go's own check is
// off only because these rules replace it.
func trunkTLSConfig(current func() hotdesk.TLSSettings) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified in VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyTrunk(cs, current())
		},
	}
}

// errNoPeerCert is a handshake without a server certificate.
var errNoPeerCert = errors.New("trunk TLS: no certificate")

func verifyTrunk(cs tls.ConnectionState, st hotdesk.TLSSettings) error {
	if len(cs.PeerCertificates) == 0 {
		return errNoPeerCert
	}
	leaf := cs.PeerCertificates[0]
	if pin, ok := validate.Fingerprint(st.TrunkFingerprint); ok {
		sum := sha256.Sum256(leaf.Raw)
		if subtle.ConstantTimeCompare(sum[:], pin) == 1 {
			return nil
		}
		return fmt.Errorf("trunk TLS: certificate fingerprint %s is not the pinned one", Fingerprint(leaf.Raw))
	}
	opts := x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if strings.TrimSpace(st.TrunkCA) != "" {
		pool, ok := validate.CAPool(st.TrunkCA)
		if !ok {
			return errors.New("trunk TLS: the pinned CA (tls.trunk_ca) is not valid PEM")
		}
		opts.Roots = pool
	}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("trunk TLS: %w", err)
	}
	return nil
}

// tlsBanner is the start-up line of the SIP TLS listener.
func (a *App) tlsBanner(pub string) string {
	addr := a.sip.TLSAddr()
	if addr == nil || a.sipCert == nil {
		return ""
	}
	kind := "certificate from --tls-cert"
	if a.sipCert.Issuer.String() == a.sipCert.Subject.String() {
		kind = "self-signed certificate"
		if a.sipCertGenerated {
			kind = "self-signed certificate, generated now"
		}
	}
	return fmt.Sprintf("  SIP over TLS:   %s (%s)\n    SHA-256 fingerprint %s\n",
		net.JoinHostPort(pub, strconv.Itoa(addr.Port)), kind, Fingerprint(a.sipCert.Raw))
}

// SIPTLSAddr is the bound SIP over TLS address, "" when disabled.
func (a *App) SIPTLSAddr() string {
	if addr := a.sip.TLSAddr(); addr != nil {
		return addr.String()
	}
	return ""
}

// sipTLSPort is the bound SIP TLS port, 0 without the listener.
func (a *App) sipTLSPort() int {
	if addr := a.sip.TLSAddr(); addr != nil {
		return addr.Port
	}
	return 0
}
