package b2bua

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// FromTrunk reports whether req comes from one of the configured trunk
// source addresses (Settings.Trunk.Sources, IP or CIDR) of an enabled
// trunk. Such INVITEs are not challenged: HandleTrunkInvite takes them.
// Every other INVITE must authenticate as a device.
func (b *B2BUA) FromTrunk(req *sip.Request) bool {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	var gen uint64
	if b.o.SettingsGen != nil {
		gen, _ = b.o.SettingsGen() // before the read: a change after it makes the copy stale
	}
	tr := b.o.Settings(ctx).Trunk
	var sources []string
	if tr.Enabled {
		sources = tr.Sources
	}
	b.trunkSeen.Store(&trunkSeen{sources: sources, at: b.o.Now(), gen: gen})
	return len(sources) > 0 && SourceAllowed(req.Source(), sources)
}

// trunkSeen is the trunk's source addresses as FromTrunk last read them
// (none while the trunk is off), when, and the settings' generation
// (Options.SettingsGen) before the read.
type trunkSeen struct {
	sources []string
	at      time.Time
	gen     uint64
}

// trunkFresh is how long NotFromTrunk trusts what FromTrunk read, while no
// settings change was seen on the bus.
const trunkFresh = time.Second

// NotFromTrunk reports, without waiting, that req surely does not come
// from the trunk's addresses: FromTrunk read them less than trunkFresh
// ago and the settings' generation has not moved since (the settings
// cache follows the bus and moves it the moment a change arrives, not
// when the party cache next drains its events: an address just added to
// trunk.sources must not be challenged). False when unsure. For the read
// loops, which must not wait for a store (signaling.HandleStatelessIf):
// FromTrunk may read the settings.
func (b *B2BUA) NotFromTrunk(req *sip.Request) bool {
	t := b.trunkSeen.Load()
	if t == nil || b.o.SettingsGen == nil {
		return false
	}
	if gen, ok := b.o.SettingsGen(); !ok || gen != t.gen {
		return false
	}
	if age := b.o.Now().Sub(t.at); age < 0 || age >= trunkFresh {
		return false
	}
	return len(t.sources) == 0 || !SourceAllowed(req.Source(), t.sources)
}

// SourceAllowed reports whether src (an IP address, or host:port as
// req.Source gives it) is one of sources: IP addresses and CIDR prefixes
// match any port; an address:port entry matches that port only, so phones
// behind the provider's NAT or SBC address are still phones (their INVITEs
// are challenged, not taken for the trunk's). Unparsable entries match
// nothing.
func SourceAllowed(src string, sources []string) bool {
	host, port, err := net.SplitHostPort(src)
	if err != nil {
		host, port = src, ""
	}
	addr := net.ParseIP(strings.Trim(host, "[]"))
	if addr == nil {
		return false
	}
	for _, s := range sources {
		s = strings.TrimSpace(s)
		if h, p, err := net.SplitHostPort(s); err == nil {
			if x := net.ParseIP(h); x != nil && x.Equal(addr) && p == port {
				return true
			}
		} else if strings.Contains(s, "/") {
			if _, n, err := net.ParseCIDR(s); err == nil && n.Contains(addr) {
				return true
			}
		} else if x := net.ParseIP(s); x != nil && x.Equal(addr) {
			return true
		}
	}
	return false
}

// HandleTrunkInvite routes an INVITE from the provider to the user owning
// the dialled DID (Request-URI user, normalised to E.164 with the site's
// country code), wherever that user is logged in. Unknown DIDs get 404.
// It blocks until the call is over.
func (b *B2BUA) HandleTrunkInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); ok {
		signaling.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, b.log)
		return
	}
	if tooManyHops(req, tx, b.log) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	st := b.o.Settings(ctx)
	number := requestNumber(req.Recipient)
	did, ok := E164(number, st)
	if !ok {
		did = number
	}
	callee := b.userByDID(ctx, did)
	if b.o.Emergency != nil {
		if rec := b.o.Emergency.CallbackFor(ctx, did); rec != nil {
			b.emergencyCallback(ctx, req, tx, rec, callee, did, st)
			return
		}
	}
	if callee == nil {
		b.log.Info("b2bua: trunk call to unknown DID", "did", did, "source", req.Source())
		signaling.Respond(tx, req, sip.StatusNotFound, b.log)
		return
	}
	from := req.From()
	caller := party{Name: from.DisplayName, Number: TrunkNumber(from.Address.User, st)}
	if caller.Number == "" {
		caller.Number = "anonymous"
	}
	b.callUser(ctx, req, tx, caller, &called{User: callee}, did)
}

// callTrunk takes an external call out over the trunk with the user's
// external caller ID (Settings.Trunk: proxy, digest credentials).
func (b *B2BUA) callTrunk(req *sip.Request, tx sip.ServerTransaction, caller party, user *hotdesk.User, number string, st hotdesk.Settings) {
	tr := st.Trunk
	if !tr.Enabled || tr.Proxy == "" {
		b.log.Info("b2bua: external call but no trunk configured", "extension", user.Extension, "to", number)
		signaling.Respond(tx, req, sip.StatusServiceUnavailable, b.log)
		return
	}
	out := b.trunkInvite(req, tr, identity{name: user.Name, user: callerID(user)}, TrunkNumber(number, st))
	c := b.newCall(req, caller, party{}, number)
	c.ring = MaxOutboundRing
	c.addLeg("", out, tr.Username, tr.Password)
	c.bridge(req, tx)
}

// callerID is what the trunk shows for a user: the external caller ID,
// else the first DID, else the extension.
func callerID(u *hotdesk.User) string {
	switch {
	case u.CallerID != "":
		return u.CallerID
	case len(u.DIDs) > 0:
		return u.DIDs[0]
	}
	return u.Extension
}

// trunkHost is the provider's domain for Request-URI, From and To.
func trunkHost(tr hotdesk.Trunk) string {
	if tr.Domain != "" {
		return tr.Domain
	}
	if h, _, err := net.SplitHostPort(tr.Proxy); err == nil {
		return h
	}
	return tr.Proxy
}

// trunkAddr is the proxy's host:port (5060 when none is given).
func trunkAddr(tr hotdesk.Trunk) string {
	if _, _, err := net.SplitHostPort(tr.Proxy); err == nil {
		return tr.Proxy
	}
	return net.JoinHostPort(strings.Trim(tr.Proxy, "[]"), "5060")
}

// trunkInvite builds the INVITE to number at the provider, sent to the
// proxy, presenting from (From display and P-Asserted-Identity).
func (b *B2BUA) trunkInvite(a *sip.Request, tr hotdesk.Trunk, from identity, number string) *sip.Request {
	host := trunkHost(tr)
	uri := sip.Uri{Scheme: "sip", User: number, Host: host}
	r := b.o.SIP.NewRequest(signaling.Out{Method: sip.INVITE, URI: uri, Dest: trunkAddr(tr), Transport: trunkTransport(tr)})
	from.host = host
	fillInvite(r, a, from, uri)
	return r
}

// trunkTransport is the transport to the trunk's proxy: Trunk.Transport,
// udp when unset.
func trunkTransport(tr hotdesk.Trunk) string {
	if tr.Transport == "" {
		return "udp"
	}
	return tr.Transport
}

// maxUDPRequest is the largest request sent over UDP (RFC 3261 section
// 18.1.1: larger than 1300 bytes goes over TCP); sipgo's Via is added
// later, hence the headroom.
const maxUDPRequest = 1300 - 200

// emergencyTransport chooses how an emergency INVITE goes: over the
// trunk's transport, but moved from UDP to TCP when too large for UDP
// (RFC 3261 18.1.1). An emergency call must never fail for a transport
// choice: it returns a UDP copy of r to send when the TCP or TLS
// connection cannot be made (18.1.1 allows UDP then), or nil when r goes
// over UDP anyway.
func (b *B2BUA) emergencyTransport(r *sip.Request) (udp *sip.Request) {
	if strings.EqualFold(r.Transport(), "UDP") {
		if len(r.String()) <= maxUDPRequest || b.o.SIP.TCPAddr() == nil {
			return nil
		}
		udp = r.Clone()
		b.setTransport(r, "tcp")
		return udp
	}
	if b.o.SIP.UDPAddr() == nil {
		return nil
	}
	udp = r.Clone()
	b.setTransport(udp, "udp")
	return udp
}

// setTransport sends r over transport, with the matching Contact.
func (b *B2BUA) setTransport(r *sip.Request, transport string) {
	r.SetTransport(strings.ToUpper(transport))
	r.RemoveHeader("Contact")
	ct := b.contact(transport)
	r.AppendHeader(&ct)
}
