package media

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// ErrNotAcceptable is returned (wrapped) by Answer and SetAnswer when the
// SDP cannot be used: malformed, no audio stream, or no codec in common.
// The SIP layer answers such an offer with 488 Not Acceptable Here.
var ErrNotAcceptable = errors.New("media: session description not acceptable")

// dtmfFmtp is the event range we accept and offer: 0-15 are the DTMF keys,
// 16 is flash (RFC 4733 section 3.2).
const dtmfFmtp = "0-16"

// codec is a G.711 variant: its static payload type and encoder.
type codec struct {
	name   string
	pt     uint8
	encode func(dst []byte, pcm []int16) []byte
}

var (
	pcmu = codec{"PCMU", 0, g711.EncodeUlaw}
	pcma = codec{"PCMA", 8, g711.EncodeAlaw}
)

// negotiated is what one offer/answer exchange settled on.
type negotiated struct {
	codec  codec
	pt     uint8 // payload type the peer uses for codec (static, so = codec.pt)
	dtmfPT int   // peer's telephone-event payload type, -1 when none
	cnPT   int   // peer's comfort noise (RFC 3389) payload type, -1 when none
	remote *net.UDPAddr
	dir    string // our direction attribute in the answer
	media  []*sdp.MediaDescription
	index  int         // which m= line is the audio stream we use
	crypto *cryptoAttr // the peer's SRTP key line; nil: plain RTP
	savp   bool        // the stream is RTP/SAVP(F)
}

// negotiate picks the first usable audio stream of desc, the first of
// PCMU/PCMA in the peer's order and its 8 kHz telephone-event, and
// decides SRTP on it under sec.
func negotiate(raw []byte, sec Security) (*negotiated, error) {
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(string(raw)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotAcceptable, err)
	}
	var secErr error
	for i, md := range desc.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 || !(isAVP(md.MediaName.Protos) || isSAVP(md.MediaName.Protos)) {
			continue
		}
		n, ok := chooseCodec(md)
		if !ok {
			continue
		}
		crypto, err := secureStream(md, sec)
		if err != nil {
			secErr = err
			continue
		}
		n.crypto, n.savp = crypto, isSAVP(md.MediaName.Protos)
		n.media, n.index = desc.MediaDescriptions, i
		n.dtmfPT = telephoneEvent(md)
		n.cnPT = comfortNoise(md)
		n.remote = remoteAddr(&desc, md)
		n.dir = answerDirection(&desc, md)
		return n, nil
	}
	if secErr != nil {
		return nil, secErr
	}
	return nil, fmt.Errorf("%w: no audio stream with PCMU or PCMA over RTP/AVP", ErrNotAcceptable)
}

func isAVP(protos []string) bool {
	p := strings.ToUpper(strings.Join(protos, "/"))
	return p == "RTP/AVP" || p == "RTP/AVPF"
}

// rtpmaps maps payload type to encoding name and clock rate ("PCMU/8000").
func rtpmaps(md *sdp.MediaDescription) map[int]string {
	m := make(map[int]string)
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptStr, enc, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		pt, err := strconv.Atoi(ptStr)
		if !ok || err != nil {
			continue
		}
		// Drop a channel count ("PCMU/8000/1") and compare case-insensitively.
		parts := strings.SplitN(strings.TrimSpace(enc), "/", 3)
		if len(parts) >= 2 {
			m[pt] = strings.ToUpper(parts[0]) + "/" + parts[1]
		}
	}
	return m
}

func chooseCodec(md *sdp.MediaDescription) (*negotiated, bool) {
	maps := rtpmaps(md)
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		enc, mapped := maps[pt]
		for _, c := range []codec{pcmu, pcma} {
			// A static payload type needs no rtpmap (RFC 3551 table 4); a
			// dynamic one would need the peer to use it for G.711, which
			// static-only encoders do not support, so require the static PT.
			if pt == int(c.pt) && (!mapped || enc == c.name+"/8000") {
				return &negotiated{codec: c, pt: c.pt}, true
			}
		}
	}
	return nil, false
}

func telephoneEvent(md *sdp.MediaDescription) int {
	maps := rtpmaps(md)
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err == nil && pt >= 96 && pt <= 127 && maps[pt] == "TELEPHONE-EVENT/8000" {
			return pt
		}
	}
	return -1
}

// cnPayloadType is the static comfort noise payload type (RFC 3551 table 4).
const cnPayloadType = 13

// comfortNoise returns the stream's 8 kHz comfort noise payload type
// (RFC 3389): 13, or a dynamic type mapped to CN/8000; -1 when not offered.
func comfortNoise(md *sdp.MediaDescription) int {
	maps := rtpmaps(md)
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		if enc, mapped := maps[pt]; enc == "CN/8000" || (pt == cnPayloadType && !mapped) {
			return pt
		}
	}
	return -1
}

// remoteAddr is where to send RTP: the stream's c= line, else the
// session's. It is nil for a hold address (0.0.0.0 / ::) or a host name;
// then the first RTP packet received decides (see Session latching).
func remoteAddr(desc *sdp.SessionDescription, md *sdp.MediaDescription) *net.UDPAddr {
	ci := desc.ConnectionInformation
	if md.ConnectionInformation != nil {
		ci = md.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return nil
	}
	ip := net.ParseIP(ci.Address.Address)
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	return &net.UDPAddr{IP: ip, Port: md.MediaName.Port.Value}
}

// answerDirection mirrors the offer's direction (RFC 3264 section 6.1).
func answerDirection(desc *sdp.SessionDescription, md *sdp.MediaDescription) string {
	dir := "sendrecv"
	for _, attrs := range [][]sdp.Attribute{desc.Attributes, md.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				dir = a.Key
			}
		}
	}
	switch dir {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	}
	return dir
}

// sdpParams is our side of a description.
type sdpParams struct {
	ip      net.IP
	port    int
	id, ver uint64
	crypto  *cryptoAttr // our a=crypto line; nil: plain RTP
	savp    bool        // answer with RTP/SAVP
}

func (p sdpParams) session() *sdp.SessionDescription {
	addrType := "IP4"
	if p.ip.To4() == nil {
		addrType = "IP6"
	}
	return &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "hotdesk", SessionID: p.id, SessionVersion: p.ver,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: p.ip.String(),
		},
		SessionName: "hotdesk",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: p.ip.String()},
		},
		TimeDescriptions: []sdp.TimeDescription{{}},
	}
}

func audio(port int) *sdp.MediaDescription {
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: port}, Protos: []string{"RTP", "AVP"},
	}}
}

// buildAnswer answers n: the chosen codec and telephone-event on the audio
// stream, every other offered stream rejected with port 0 (RFC 3264
// section 6: the answer has as many m= lines as the offer).
func buildAnswer(p sdpParams, n *negotiated) ([]byte, error) {
	desc := p.session()
	for i, offered := range n.media {
		if i != n.index {
			desc.MediaDescriptions = append(desc.MediaDescriptions, &sdp.MediaDescription{MediaName: sdp.MediaName{
				Media: offered.MediaName.Media, Protos: offered.MediaName.Protos, Formats: offered.MediaName.Formats[:min(1, len(offered.MediaName.Formats))],
			}})
			continue
		}
		md := audio(p.port).WithCodec(n.codec.pt, n.codec.name, 8000, 0, "")
		if n.dtmfPT >= 0 {
			md = md.WithCodec(uint8(n.dtmfPT), "telephone-event", 8000, 0, dtmfFmtp)
		}
		if n.cnPT >= 0 {
			md = md.WithCodec(uint8(n.cnPT), "CN", 8000, 0, "")
		}
		md = md.WithValueAttribute("ptime", "20").WithPropertyAttribute(n.dir)
		if p.crypto != nil {
			md = withCrypto(md, *p.crypto, p.savp)
		}
		desc.MediaDescriptions = append(desc.MediaDescriptions, md)
	}
	b, err := desc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("media: marshal answer: %w", err)
	}
	return b, nil
}

// offerDTMFPT is the telephone-event payload type we offer.
const offerDTMFPT = 101

// buildOffer offers PCMU, PCMA, telephone-event and comfort noise.
func buildOffer(p sdpParams) ([]byte, error) {
	desc := p.session()
	md := audio(p.port).
		WithCodec(pcmu.pt, pcmu.name, 8000, 0, "").
		WithCodec(pcma.pt, pcma.name, 8000, 0, "").
		WithCodec(offerDTMFPT, "telephone-event", 8000, 0, dtmfFmtp).
		WithCodec(cnPayloadType, "CN", 8000, 0, "").
		WithValueAttribute("ptime", "20").
		WithPropertyAttribute("sendrecv")
	if p.crypto != nil {
		md = withCrypto(md, *p.crypto, p.savp)
	}
	desc.MediaDescriptions = append(desc.MediaDescriptions, md)
	b, err := desc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("media: marshal offer: %w", err)
	}
	return b, nil
}
