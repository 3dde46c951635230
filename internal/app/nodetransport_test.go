package app

import "testing"

// TestNodeTransportSetting: --node-transport takes udp or tcp only.
func TestNodeTransportSetting(t *testing.T) {
	for v, ok := range map[string]bool{"": true, "udp": true, "tcp": true, "TCP": false, "tls": false, "sctp": false} {
		c := DefaultConfig()
		c.NodeTransport = v
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("NodeTransport %q: Validate() = %v, want ok=%v", v, err, ok)
		}
	}
}
