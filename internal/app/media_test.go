package app

import (
	"strings"
	"testing"
)

// --media takes auto (the default), anchor or direct; the relay binds the
// SIP listen IP, or all addresses when SIP listens on all.
func TestMediaFlag(t *testing.T) {
	c := DefaultConfig()
	if c.Media != "auto" {
		t.Fatalf("default --media %q", c.Media)
	}
	for _, m := range []string{"auto", "anchor", "direct"} {
		c.Media = m
		if err := c.Validate(); err != nil {
			t.Errorf("--media %s: %v", m, err)
		}
	}
	c.Media = "relay"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--media") {
		t.Fatalf("--media relay: %v", err)
	}
	for addr, want := range map[string]string{":5060": "0.0.0.0", "10.1.2.3:5060": "10.1.2.3", "0.0.0.0:5060": "0.0.0.0"} {
		c.SIPAddr = addr
		if got := c.mediaBindIP(); got != want {
			t.Errorf("--sip %s: relay binds %s, want %s", addr, got, want)
		}
	}
}
