package app

import (
	"io"
	"net/http"
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

// /metrics shows the media relay: anchored calls up, packets relayed and
// dropped.
func TestRelayMetrics(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	res, err := http.Get(r.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, w := range []string{"hotdesk_relay_sessions 0", "hotdesk_relay_packets_total 0", "hotdesk_relay_packets_dropped_total 0"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
}
