package b2bua_test

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
)

// Found in review (issue 18): the read loops' challenge trusted the
// trunk's addresses as FromTrunk last read them until the party cache
// counted a settings change, which it did only when it next took its
// events (before a call's lookup, or on its tick). For that while an
// INVITE from an address just added to trunk.sources was challenged 407
// instead of taken as the trunk's. The settings cache's generation moves
// the moment it takes the change.
func TestTrunkSourceChangeTakenAtOnce(t *testing.T) {
	t.Parallel()
	p := mustPBX(t)
	ph := newRawPhone(t, p.addr(), "provider")
	p.updateSettings(t, func(st *hotdesk.Settings) {
		st.Trunk = hotdesk.Trunk{Enabled: true, Proxy: "192.0.2.1", Sources: []string{"192.0.2.1"}}
	})
	seq := 0
	inviteGets := func() int {
		t.Helper()
		seq++
		ph.send(ph.invite("+15550100", seq, "z9hG4bK-src"+string(rune('a'+seq)), ""))
		return ph.final().StatusCode
	}
	// Not the trunk's: challenged (FromTrunk reads the addresses), then
	// challenged where it is read.
	for range 2 {
		if code := inviteGets(); code != sip.StatusProxyAuthRequired {
			t.Fatalf("INVITE from a phone: %d, want 407", code)
		}
	}
	// The provider's address is added: at once its INVITE is the trunk's
	// (the DID is nobody's: 404), not a phone's to challenge.
	p.updateSettings(t, func(st *hotdesk.Settings) { st.Trunk.Sources = append(st.Trunk.Sources, ph.local()) })
	if code := inviteGets(); code != sip.StatusNotFound {
		t.Fatalf("INVITE from the new trunk address: %d, want 404 (the trunk's, DID unknown)", code)
	}
	if code := inviteGets(); code != sip.StatusNotFound {
		t.Fatalf("INVITE again from the new trunk address: %d, want 404", code)
	}
	// Removed again: challenged at once.
	p.updateSettings(t, func(st *hotdesk.Settings) { st.Trunk.Sources = st.Trunk.Sources[:1] })
	if code := inviteGets(); code != sip.StatusProxyAuthRequired {
		t.Fatalf("INVITE from the removed trunk address: %d, want 407", code)
	}
}
