package nodes

import "testing"

// TestSplitAddress: a node's roster address names its transport; the
// source check resolves the host of either form.
func TestSplitAddress(t *testing.T) {
	for addr, want := range map[string][2]string{
		"127.0.0.2:5060":               {"127.0.0.2:5060", "udp"},
		"127.0.0.2:5060;transport=tcp": {"127.0.0.2:5060", "tcp"},
		"[::1]:5070;transport=tcp":     {"[::1]:5070", "tcp"},
	} {
		hp, tr := SplitAddress(addr)
		if hp != want[0] || tr != want[1] {
			t.Errorf("SplitAddress(%q) = %q, %q; want %q, %q", addr, hp, tr, want[0], want[1])
		}
		if ips := resolve(t.Context(), addr); len(ips) != 1 {
			t.Errorf("resolve(%q) = %v, want the one address", addr, ips)
		}
	}
}
