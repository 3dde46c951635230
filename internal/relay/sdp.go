package relay

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/pion/sdp/v3"
)

// ErrNoAudio is returned by Pass for SDP without an audio stream to relay.
var ErrNoAudio = errors.New("relay: no audio stream in SDP")

// dropAttrs are attributes that would lead the other phone around the
// relay (ICE candidates) or assume a socket layout it does not have.
var dropAttrs = map[string]bool{
	"rtcp": true, "rtcp-mux": true, "candidate": true, "remote-candidates": true,
	"end-of-candidates": true, "ice-ufrag": true, "ice-pwd": true, "ice-options": true, "ice-lite": true,
}

// Pass takes SDP sent by side from's phone, whose signalling came from
// flow (an IP or ip:port; "" unknown): it learns where that phone's media
// will come from, and returns the SDP to send the other side, naming the
// other leg's port pair on the relay. The first audio stream is relayed;
// other streams are refused (port 0). A new address in a later SDP
// (re-INVITE) undoes the leg's latch.
func (s *Session) Pass(from Side, body []byte, flow string) ([]byte, error) {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(string(body)); err != nil {
		return nil, fmt.Errorf("relay: parse SDP: %w", err)
	}
	idx := -1
	for i, md := range desc.MediaDescriptions {
		if idx < 0 && md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 {
			idx = i
		}
	}
	if idx < 0 {
		return nil, ErrNoAudio
	}
	s.legs[from].learn(&desc, desc.MediaDescriptions[idx], flow)
	to := s.legs[from.other()]
	ip := s.r.sdpIP
	addrType := "IP4"
	if ip.Is6() {
		addrType = "IP6"
	}
	conn := &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()}}
	desc.Origin.UnicastAddress, desc.Origin.AddressType = ip.String(), addrType
	desc.ConnectionInformation = conn
	for i, md := range desc.MediaDescriptions {
		if i != idx {
			md.MediaName.Port = sdp.RangedPort{Value: 0}
			continue
		}
		md.MediaName.Port = sdp.RangedPort{Value: to.Port()}
		md.ConnectionInformation = nil // the session's, the relay's
		kept := md.Attributes[:0]
		for _, a := range md.Attributes {
			if !dropAttrs[a.Key] {
				kept = append(kept, a)
			}
		}
		md.Attributes = append(kept, sdp.Attribute{Key: "rtcp", Value: strconv.Itoa(to.RTCPPort())})
	}
	kept := desc.Attributes[:0]
	for _, a := range desc.Attributes {
		if !dropAttrs[a.Key] {
			kept = append(kept, a)
		}
	}
	desc.Attributes = kept
	out, err := desc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("relay: write SDP: %w", err)
	}
	return out, nil
}

// learn records the phone's RTP and RTCP addresses, direction and flow
// from its SDP. A hold address (0.0.0.0) keeps the addresses known.
func (l *Leg) learn(desc *sdp.SessionDescription, md *sdp.MediaDescription, flow string) {
	old := l.st.Load()
	next := *old
	if f := parseIP(flow); f.IsValid() {
		next.flow = f
	}
	ci := desc.ConnectionInformation
	if md.ConnectionInformation != nil {
		ci = md.ConnectionInformation
	}
	if ci != nil && ci.Address != nil {
		if ip, err := netip.ParseAddr(ci.Address.Address); err == nil && !ip.IsUnspecified() {
			next.sdp = netip.AddrPortFrom(ip.Unmap(), uint16(md.MediaName.Port.Value))
			next.sdpRTCP = netip.AddrPortFrom(ip.Unmap(), uint16(md.MediaName.Port.Value+1))
			if v, ok := md.Attribute("rtcp"); ok {
				if p, err := strconv.Atoi(firstField(v)); err == nil && p > 0 && p < 65536 {
					next.sdpRTCP = netip.AddrPortFrom(ip.Unmap(), uint16(p))
				}
			}
		}
	}
	next.dir = "sendrecv"
	for _, attrs := range [][]sdp.Attribute{desc.Attributes, md.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				next.dir = a.Key
			}
		}
	}
	if next.sdp != old.sdp || next.flow != old.flow {
		next.rtp, next.rtcpSrc = netip.AddrPort{}, netip.AddrPort{} // latch again
	}
	l.st.Store(&next)
}

// parseIP reads an IP or ip:port.
func parseIP(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap()
	}
	return netip.Addr{}
}

func firstField(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			return v[:i]
		}
	}
	return v
}
