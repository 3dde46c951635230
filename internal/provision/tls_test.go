package provision

import (
	"context"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestTransportPerDevice: a phone is provisioned with TLS (the TLS port
// and its SRTP policy) when its device or else the site says so, and
// with UDP when the PBX has no TLS listener.
func TestTransportPerDevice(t *testing.T) {
	type want struct{ snom, yealink, grandstream []string }
	tests := []struct {
		name           string
		site, dev, pol string
		tlsPort        int
		want           want
		not            []string
	}{
		{"default udp", "", "", "", 5061, want{
			[]string{"192.0.2.10:5060;transport=udp"}, []string{"transport_type = 0", "sip_server.1.port = 5060"}, []string{"<P47>192.0.2.10:5060</P47>"}},
			[]string{"srtp", "savp", "P130", "P183"}},
		{"device tls, srtp required", "", "tls", hotdesk.SRTPRequired, 5061, want{
			[]string{"192.0.2.10:5061;transport=tls", `<user_srtp idx="1" perm="R">on`, `<user_savp idx="1" perm="R">mandatory`},
			[]string{"transport_type = 2", "sip_server.1.port = 5061", "srtp_encryption = 2"},
			[]string{"<P47>192.0.2.10:5061</P47>", "<P130>2</P130>", "<P183>2</P183>"}}, nil},
		{"site tls, srtp default optional", "tls", "", "", 5061, want{
			[]string{"transport=tls", "<user_savp idx=\"1\" perm=\"R\">optional"}, []string{"transport_type = 2", "srtp_encryption = 1"},
			[]string{"<P130>2</P130>", "<P183>1</P183>"}}, nil},
		{"device udp overrides site tls", "tls", "udp", "", 5061, want{
			[]string{"transport=udp"}, []string{"transport_type = 0"}, []string{"<P47>192.0.2.10:5060</P47>"}},
			[]string{"srtp", "savp", "P130", "P183"}},
		{"tcp", "", "tcp", "", 5061, want{
			[]string{"192.0.2.10:5060;transport=tcp"}, []string{"transport_type = 1"}, []string{"<P130>1</P130>"}},
			[]string{"srtp", "savp", "P183"}},
		{"tls, srtp off", "", "tls", hotdesk.SRTPOff, 5061, want{
			[]string{`<user_srtp idx="1" perm="R">off`}, []string{"srtp_encryption = 0"}, []string{"<P183>0</P183>"}}, nil},
		{"tls without a TLS listener", "", "tls", "", 0, want{
			[]string{"transport=udp"}, []string{"transport_type = 0"}, []string{"<P47>192.0.2.10:5060</P47>"}},
			[]string{"srtp", "savp", "P130", "P183"}},
	}
	for _, tt := range tests {
		for vendorName, wants := range map[string][]string{"snom": tt.want.snom, "yealink": tt.want.yealink, "grandstream": tt.want.grandstream} {
			t.Run(tt.name+"/"+vendorName, func(t *testing.T) {
				s := fixture(vendorName)
				ctx := context.Background()
				s.editSettings(func(st *hotdesk.Settings) { st.TLS.PhoneTransport = tt.site })
				s.must(s.CreateDevice(ctx, &hotdesk.Device{ID: "HD00009", MAC: "000413000009", Model: vendorName,
					Mode: hotdesk.ModeHotdesk, SIPPassword: "pw", SIPTransport: tt.dev, SRTP: tt.pol}))
				srv, err := New(Options{Store: s, Logger: quietLogger(), Now: newClock().Now, SIPHost: "192.0.2.10", SIPPort: 5060,
					SIPTLSPort: tt.tlsPort, Realm: testRealm})
				if err != nil {
					t.Fatal(err)
				}
				d, _ := s.FindDevice(ctx, "HD00009")
				st, _ := s.GetSettings(ctx)
				out, err := srv.vendors[vendorName].render(srv.buildView(ctx, d, nil, st))
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range wants {
					if !strings.Contains(string(out), w) {
						t.Errorf("missing %q in\n%s", w, out)
					}
				}
				for _, n := range tt.not {
					if strings.Contains(string(out), n) {
						t.Errorf("unexpected %q in\n%s", n, out)
					}
				}
			})
		}
	}
}
