package b2bua

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// Media modes (--media): where a call's RTP flows.
const (
	// MediaAuto anchors a call when a phone in it is behind NAT or the
	// two ends are on different networks; else media flows directly.
	MediaAuto = "auto"
	// MediaAnchor relays every call's media through the PBX.
	MediaAnchor = "anchor"
	// MediaDirect never relays: SDP passes through unchanged.
	MediaDirect = "direct"
)

// MediaModes are the values --media takes.
var MediaModes = []string{MediaAuto, MediaAnchor, MediaDirect}

// anchorMedia decides whether c's media goes through the relay (issue 15
// item 2) and, when it does, opens the call's relay session and rewrites
// the offer every leg carries. It runs once the legs are built, before
// they are sent.
func (c *call) anchorMedia(req *sip.Request) error {
	b := c.b
	mode := b.o.Media
	if b.o.Relay == nil || mode == MediaDirect || (mode != MediaAnchor && !c.needsAnchor(req)) {
		return nil
	}
	s, err := b.o.Relay.Open()
	if err != nil {
		return fmt.Errorf("anchor media: %w", err)
	}
	c.media = s
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	c.noMedia = time.Duration(b.o.Settings(ctx).NAT.NoMediaSeconds) * time.Second
	c.log.Debug("b2bua: media anchored", "caller_port", s.Leg(relay.A).Port(), "callee_port", s.Leg(relay.B).Port())
	c.srtp = newLegSRTP(s, signaling.Secure(req))
	body := req.Body()
	if len(body) == 0 {
		return nil
	}
	relayed, err := s.Pass(relay.A, body, req.Source())
	if err != nil {
		c.log.Warn("b2bua: SDP not anchored", "side", relay.A, "err", err)
		return nil
	}
	// One offer per kind of leg the call has: plain (always: an emergency
	// leg's UDP copy), over TLS (the PBX's key when the caller uses SRTP),
	// over TLS to a device that requires SRTP. Most calls have only plain
	// legs, and then only one offer is written (issue 18).
	kinds := []toLeg{{}}
	kindOf := make([]int, len(c.legs))
	for i, l := range c.legs {
		var k toLeg
		if signaling.Secure(l.req) {
			k = toLeg{tls: true, required: c.requiresSRTP(ctx, l.device)}
		}
		if kindOf[i] = slices.Index(kinds, k); kindOf[i] < 0 {
			kindOf[i] = len(kinds)
			kinds = append(kinds, k)
		}
	}
	outs, err := c.srtp.rewrite(relay.A, relayed, kinds...)
	if err != nil {
		c.log.Warn("b2bua: SRTP not terminated", "side", relay.A, "err", err)
		outs = make([][]byte, len(kinds))
		for i := range outs {
			outs[i] = relayed
		}
	}
	for i, l := range c.legs {
		replaceSDP(l.req, body, outs[kindOf[i]])
		replaceSDP(l.udp, body, outs[0])
	}
	return nil
}

// requiresSRTP reports whether device's policy is srtp = required.
func (c *call) requiresSRTP(ctx context.Context, device string) bool {
	if device == "" {
		return false
	}
	dev, err := c.b.o.Store.FindDevice(ctx, device)
	return err == nil && dev.SRTP == hotdesk.SRTPRequired
}

// replaceSDP puts the anchored offer where a leg carries the caller's:
// its whole body, or its SDP part (an emergency INVITE is multipart, the
// SDP beside the PIDF-LO). A leg not over TLS carries the caller's SDP
// without its a=crypto lines (keysFor).
func replaceSDP(r *sip.Request, orig, anchored []byte) {
	if r == nil || len(r.Body()) == 0 {
		return
	}
	body := r.Body()
	for _, o := range [][]byte{orig, keysFor(orig, "")} {
		if bytes.Equal(body, o) {
			r.SetBody(anchored)
			return
		}
		if i := bytes.Index(body, o); i >= 0 {
			r.SetBody(slices.Concat(body[:i], anchored, body[i+len(o):]))
			return
		}
	}
}

// needsAnchor is the auto rule: the caller is behind NAT, or a callee's
// phone is, or a leg goes to another network than the caller's (a /24 for
// IPv4, a /64 for IPv6; a host name counts as another network). Legs to
// other PBX nodes are left to that node, which anchors for its phone.
func (c *call) needsAnchor(req *sip.Request) bool {
	src := signaling.SourceAddr(req.Source())
	if !src.IsValid() || signaling.BehindNAT(req) {
		return true
	}
	for _, l := range c.legs {
		if l.req.GetHeader(ringHeader) != nil {
			continue
		}
		dst := signaling.SourceAddr(l.req.Destination())
		if !dst.IsValid() || !sameNetwork(src, dst) {
			return true
		}
		if l.device != "" && signaling.SourceAddr(l.req.Recipient.Host) != dst {
			return true // the callee's Contact is not where it registered from
		}
	}
	return false
}

// sameNetwork reports whether a and b share a /24 (IPv4) or /64 (IPv6).
func sameNetwork(a, b netip.Addr) bool {
	if a.Is4() != b.Is4() {
		return false
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	pa, _ := a.Prefix(bits)
	return pa.Contains(b)
}

// sdpFrom passes SDP that side from's phone sent (over flow, its
// signalling source; "" when unknown) through the relay and returns what
// the other side is sent: unchanged when the call is not anchored or the
// body is empty. SDP the relay cannot read goes on unchanged (logged).
// SRTP is terminated per leg (legSRTP): the other side gets the PBX's
// key for its leg, or plain RTP.
func (c *call) sdpFrom(from relay.Side, body []byte, flow string) []byte {
	if c.media == nil || len(body) == 0 {
		return body
	}
	out, err := c.media.Pass(from, body, flow)
	if err != nil {
		c.log.Warn("b2bua: SDP not anchored", "side", from, "err", err)
		return body
	}
	outs, err := c.srtp.rewrite(from, out)
	if err != nil {
		c.log.Warn("b2bua: SRTP not terminated", "side", from, "err", err)
		return out
	}
	return outs[0]
}

// answeringLeg records the transport of the leg whose SDP comes back, for
// the SRTP of the callee's side of an anchored call.
func (c *call) answeringLeg(l *leg) {
	if c.srtp != nil {
		c.srtp.setSecure(relay.B, signaling.Secure(l.req))
	}
}

// sideOf is the relay side of a request from the caller (A) or a leg (B).
func sideOf(fromA bool) relay.Side {
	if fromA {
		return relay.A
	}
	return relay.B
}

// noMediaTicker is the no-media check of an anchored call; nil channel
// (never fires) otherwise.
func (c *call) noMediaTicker() (<-chan time.Time, func()) {
	if c.media == nil || c.noMedia <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(min(time.Second, c.noMedia/4))
	return t.C, t.Stop
}

// mediaGone reports whether the anchored call has relayed nothing for the
// no-media timeout while not on hold.
func (c *call) mediaGone() bool {
	return c.media != nil && !c.media.OnHold() && c.media.Idle() >= c.noMedia
}
