package app

import "testing"

func TestSIPTLSAddr(t *testing.T) {
	for _, tt := range []struct{ sip, tls, want string }{
		{":5060", DefaultSIPTLSAddr, ":5061"},
		{"10.0.0.5:5060", DefaultSIPTLSAddr, "10.0.0.5:5061"},
		{"127.0.0.1:0", DefaultSIPTLSAddr, "127.0.0.1:0"}, // tests: ephemeral like --sip
		{"127.0.0.1:0", ":5071", "127.0.0.1:5071"},
		{":5060", "192.0.2.1:5062", "192.0.2.1:5062"},
		{"[::1]:5060", DefaultSIPTLSAddr, "[::1]:5061"},
		{":5060", "", ""},
	} {
		c := DefaultConfig()
		c.SIPAddr, c.SIPTLSAddr = tt.sip, tt.tls
		if got := c.sipTLSAddr(); got != tt.want {
			t.Errorf("--sip %q --sip-tls %q: %q, want %q", tt.sip, tt.tls, got, tt.want)
		}
	}
	c := DefaultConfig()
	c.SIPTLSAddr = "5061"
	if c.Validate() == nil {
		t.Error("--sip-tls without a colon accepted")
	}
}
