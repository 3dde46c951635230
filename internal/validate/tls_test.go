package validate

import (
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestTLSSettings(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	tests := []struct {
		name   string
		in     hotdesk.TLSSettings
		fields []string
	}{
		{"empty", hotdesk.TLSSettings{}, nil},
		{"tls and a fingerprint with colons", hotdesk.TLSSettings{PhoneTransport: "tls", TrunkFingerprint: strings.Repeat("AB:", 31) + "AB"}, nil},
		{"bare fingerprint", hotdesk.TLSSettings{TrunkFingerprint: fp}, nil},
		{"bad transport", hotdesk.TLSSettings{PhoneTransport: "sctp"}, []string{"tls.phone_transport"}},
		{"short fingerprint", hotdesk.TLSSettings{TrunkFingerprint: fp[:62]}, []string{"tls.trunk_fingerprint"}},
		{"not hex", hotdesk.TLSSettings{TrunkFingerprint: strings.Repeat("zz", 32)}, []string{"tls.trunk_fingerprint"}},
		{"CA not PEM", hotdesk.TLSSettings{TrunkCA: "hello"}, []string{"tls.trunk_ca"}},
	}
	for _, tt := range tests {
		var got []string
		for _, err := range TLS("tls.", tt.in) {
			got = append(got, hotdesk.ErrorField(err))
		}
		if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
			t.Errorf("%s: fields %v, want %v", tt.name, got, tt.fields)
		}
	}
}

func TestDeviceTransportAndSRTP(t *testing.T) {
	for _, v := range []string{"", "udp", "tcp", "tls"} {
		if err := SIPTransport("sip_transport", v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if SIPTransport("sip_transport", "TLS1") == nil {
		t.Error("bad transport accepted")
	}
	for _, v := range []string{"", "off", "optional", "required"} {
		if err := SRTP("srtp", v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if SRTP("srtp", "mandatory") == nil {
		t.Error("bad srtp accepted")
	}
}
