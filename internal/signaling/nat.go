package signaling

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// BehindNAT reports whether req's sender wrote an address that is not
// where req came from (RFC 3581 section 4: the sent-by of its top Via, or
// its Contact's host): a phone behind NAT, whose own address cannot be
// reached from here. A host name in either counts as not reachable too.
func BehindNAT(req *sip.Request) bool {
	src := SourceAddr(req.Source())
	if !src.IsValid() {
		return false
	}
	if v := req.Via(); v != nil && hostAddr(v.Host) != src {
		return true
	}
	if c := req.Contact(); c != nil && !c.Address.Wildcard && hostAddr(c.Address.Host) != src {
		return true
	}
	return false
}

// SourceAddr is the IP of an "ip:port" (or bare IP) source, unmapped;
// invalid for anything else.
func SourceAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	return hostAddr(s)
}

func hostAddr(h string) netip.Addr {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
