package b2bua

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"

	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
)

// legSRTP terminates SDES-SRTP per leg on an anchored call (issue 15 item
// 4): each phone that sends a=crypto over TLS keeps SRTP on its own leg,
// with its key for what it sends and a key of the PBX's own (made per leg)
// for what it is sent; the relay decrypts on the way in and encrypts on
// the way out. A leg over any other transport, or whose phone wants plain
// RTP, gets plain RTP/AVP without a=crypto. So a TLS phone with SRTP and
// a plain UDP phone talk through the relay, and no key crosses from one
// leg to the other.
type legSRTP struct {
	mu       sync.Mutex
	secure   [2]bool // the side's signalling is TLS (B: the leg that answers)
	lastFrom relay.Side
	any      bool // an SDP passed already (lastFrom is set)
	side     [2]*sideSRTP
}

// sideSRTP is one side's keys and the contexts its relay leg uses.
type sideSRTP struct {
	peer *media.SDESKey // the key in the phone's last SDP; nil plain
	savp bool           // its last SDP used RTP/SAVP(F)
	own  *media.SDESKey // the PBX's key last sent to the phone
	// in decrypts what the phone sends, out encrypts what it is sent;
	// nil passes packets unchanged. Swapped whole by SDP, read per packet.
	in, out atomic.Pointer[srtpPair]
}

// srtpPair is one key's contexts: one for RTP and one for RTCP, since each
// is used by its own read loop alone.
type srtpPair struct{ rtp, rtcp *srtp.Context }

func newPair(k media.SDESKey) (*srtpPair, error) {
	a, err := k.Context()
	if err != nil {
		return nil, err
	}
	b, err := k.Context()
	if err != nil {
		return nil, err
	}
	return &srtpPair{a, b}, nil
}

// newLegSRTP installs the transforms on s's legs; callerTLS is the
// caller's transport.
func newLegSRTP(s *relay.Session, callerTLS bool) *legSRTP {
	k := &legSRTP{}
	k.secure[relay.A] = callerTLS
	for i := range k.side {
		st := &sideSRTP{}
		k.side[i] = st
		l := s.Leg(relay.Side(i))
		l.In, l.Out = decrypter(&st.in), encrypter(&st.out)
	}
	return k
}

// decrypter is a leg's In: SRTP to RTP in place when the phone uses SRTP.
func decrypter(p *atomic.Pointer[srtpPair]) relay.Transform { return srtpTransform(p, false) }

// encrypter is a leg's Out: RTP to SRTP in place (the relay's buffer has
// room for the tag) with the PBX's key for that phone.
func encrypter(p *atomic.Pointer[srtpPair]) relay.Transform { return srtpTransform(p, true) }

// srtpTransform encrypts or decrypts RTP and RTCP with the pair p holds,
// passing packets through while it holds none. Its RTP header is the RTP
// read loop's alone: each transform runs in one.
func srtpTransform(p *atomic.Pointer[srtpPair], encrypt bool) relay.Transform {
	var h rtp.Header
	return func(pkt []byte, rtcp bool) ([]byte, bool) {
		ctx := p.Load()
		if ctx == nil {
			return pkt, true
		}
		var err error
		switch {
		case rtcp && encrypt:
			pkt, err = ctx.rtcp.EncryptRTCP(pkt, pkt, nil)
		case rtcp:
			pkt, err = ctx.rtcp.DecryptRTCP(pkt, pkt, nil)
		case encrypt:
			pkt, err = ctx.rtp.EncryptRTP(pkt, pkt, &h)
		default:
			pkt, err = ctx.rtp.DecryptRTP(pkt, pkt, &h)
		}
		return pkt, err == nil
	}
}

// setSecure records the transport of the B leg that answers.
func (k *legSRTP) setSecure(side relay.Side, tls bool) {
	k.mu.Lock()
	k.secure[side] = tls
	k.mu.Unlock()
}

// learn takes the keys of SDP from's phone sent (already through the
// relay: body names the relay's port) and reports whether it answers an
// offer of the other side (the SDP before it came from there).
func (k *legSRTP) learn(from relay.Side, md *sdp.MediaDescription) (answer bool, err error) {
	st := k.side[from]
	answer = k.any && k.lastFrom != from
	k.any, k.lastFrom = true, from
	st.savp = media.SAVP(md)
	var keys []media.SDESKey
	if k.secure[from] {
		keys = media.SDESKeys(md)
	}
	if len(keys) == 0 {
		st.peer = nil
		st.in.Store(nil)
		st.out.Store(nil)
		return answer, nil
	}
	if st.peer == nil || !st.peer.Equal(keys[0]) {
		p, err := newPair(keys[0])
		if err != nil {
			return answer, err
		}
		st.in.Store(p)
	}
	st.peer = &keys[0]
	return answer, nil
}

// toLeg is how the SDP for a side goes: over TLS, and to a device whose
// policy is srtp = required.
type toLeg struct{ tls, required bool }

// write puts in md, the SDP to side to, the PBX's key for that side, or
// makes it plain RTP/AVP. SRTP goes to a TLS phone that used it in its
// last SDP, or, in an offer, when the sender used it or the phone's
// device requires it.
func (k *legSRTP) write(to relay.Side, md *sdp.MediaDescription, leg toLeg, answer bool) error {
	from := k.side[1-to]
	st := k.side[to]
	kept := md.Attributes[:0]
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			kept = append(kept, a)
		}
	}
	md.Attributes = kept
	savp := from.savp || (leg.required && from.peer == nil)
	if answer {
		savp = st.savp
	}
	use := leg.tls && (st.peer != nil || (!answer && (from.peer != nil || leg.required)))
	if !use {
		setProfile(md, false)
		st.out.Store(nil)
		return nil
	}
	tag, like := 1, from.peer
	if st.peer != nil {
		tag, like = st.peer.Tag(), st.peer
	}
	if st.own == nil || (like != nil && !st.own.SameSuite(*like)) || st.out.Load() == nil {
		own := media.NewSDESKey(tag, like)
		p, err := newPair(own)
		if err != nil {
			return err
		}
		st.own = &own
		st.out.Store(p)
	}
	own := st.own.WithTag(tag)
	st.own = &own
	setProfile(md, savp)
	md.Attributes = append(md.Attributes, sdp.Attribute{Key: "crypto", Value: own.Value()})
	return nil
}

// setProfile makes md's profile RTP/SAVP (or SAVPF) or RTP/AVP (AVPF).
func setProfile(md *sdp.MediaDescription, savp bool) {
	fb := strings.HasSuffix(strings.ToUpper(strings.Join(md.MediaName.Protos, "/")), "F")
	p := "AVP"
	if savp {
		p = "SAVP"
	}
	if fb {
		p += "F"
	}
	md.MediaName.Protos = []string{"RTP", p}
}

// relayedAudio is the audio stream the relay carries in desc (the first
// audio stream with a port), nil when none.
func relayedAudio(desc *sdp.SessionDescription) *sdp.MediaDescription {
	for _, md := range desc.MediaDescriptions {
		if md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 {
			return md
		}
	}
	return nil
}

// rewrite is the SRTP part of an anchored SDP: relayed is what the relay
// made of the SDP from's phone sent; the result is what side to is sent,
// one body per kind of leg given, or none given: one for the transport
// set for to.
func (k *legSRTP) rewrite(from relay.Side, relayed []byte, to ...toLeg) ([][]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(to) == 0 {
		to = []toLeg{{tls: k.secure[1-from]}}
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(string(relayed)); err != nil {
		return nil, fmt.Errorf("srtp: parse relayed SDP: %w", err)
	}
	md := relayedAudio(&desc)
	if md == nil {
		return nil, relay.ErrNoAudio
	}
	answer, err := k.learn(from, md)
	if err != nil {
		return nil, fmt.Errorf("srtp: %w", err)
	}
	attrs := md.Attributes
	out := make([][]byte, len(to))
	for i, leg := range to {
		md.Attributes = append([]sdp.Attribute(nil), attrs...)
		if err := k.write(1-from, md, leg, answer); err != nil {
			return nil, fmt.Errorf("srtp: %w", err)
		}
		if out[i], err = desc.Marshal(); err != nil {
			return nil, fmt.Errorf("srtp: write SDP: %w", err)
		}
	}
	return out, nil
}
