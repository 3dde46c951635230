package media

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
)

// SRTP policies of a session (a device's srtp setting).
const (
	SRTPOff      = "off"
	SRTPOptional = "optional"
	SRTPRequired = "required"
)

// Security is what a session may do with SDES-SRTP (RFC 4568). Keys are
// only ever put in SDP when Secure is true: the SDP travels over TLS.
type Security struct {
	Secure bool   // the call's signalling is TLS
	SRTP   string // SRTPOff, SRTPOptional ("" too) or SRTPRequired
}

// offers reports whether SRTP may be used at all.
func (s Security) offers() bool { return s.Secure && s.SRTP != SRTPOff }

// required reports whether plain RTP must be refused.
func (s Security) required() bool { return s.SRTP == SRTPRequired }

// cryptoSuite is one SDES crypto-suite we support, and its pion profile.
type cryptoSuite struct {
	name    string
	profile srtp.ProtectionProfile
}

// suites are the supported crypto-suites in our order of preference
// (RFC 4568 section 6.2).
var suites = []cryptoSuite{
	{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80},
	{"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32},
}

// keySaltLen is the master key (16) plus salt (14) of both suites.
const keySaltLen = 30

// cryptoAttr is one a=crypto line: tag, suite and inline key||salt.
type cryptoAttr struct {
	tag   int
	suite cryptoSuite
	key   []byte // master key || master salt, keySaltLen bytes
}

func (c cryptoAttr) value() string {
	return strconv.Itoa(c.tag) + " " + c.suite.name + " inline:" + base64.StdEncoding.EncodeToString(c.key)
}

// context makes the SRTP context of c's key.
func (c cryptoAttr) context() (*srtp.Context, error) {
	return srtp.CreateContext(c.key[:16], c.key[16:], c.suite.profile, srtp.SRTPReplayProtection(64))
}

// cryptoLines reads md's a=crypto lines in order. known holds the usable
// ones; any reports whether there was a crypto line at all.
func cryptoLines(md *sdp.MediaDescription) (known []cryptoAttr, any bool) {
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		any = true
		if c, ok := parseCrypto(a.Value); ok {
			known = append(known, c)
		}
	}
	return known, any
}

// parseCrypto parses "tag suite inline:key||salt[|lifetime]" (RFC 4568
// section 9.1). A line with a master key identifier (MKI), several keys or
// session parameters is not usable here.
func parseCrypto(v string) (cryptoAttr, bool) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return cryptoAttr{}, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return cryptoAttr{}, false
	}
	var c cryptoAttr
	for _, s := range suites {
		if strings.EqualFold(f[1], s.name) {
			c.suite = s
		}
	}
	inline, ok := strings.CutPrefix(f[2], "inline:")
	if c.suite.name == "" || !ok {
		return cryptoAttr{}, false
	}
	keyPart, rest, _ := strings.Cut(inline, "|")
	if strings.Contains(rest, ":") { // MKI:length
		return cryptoAttr{}, false
	}
	key, err := base64.StdEncoding.DecodeString(keyPart)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(keyPart)
	}
	if err != nil || len(key) != keySaltLen {
		return cryptoAttr{}, false
	}
	c.tag, c.key = tag, key
	return c, true
}

// newKey is a fresh random master key and salt.
func newKey() []byte {
	k := make([]byte, keySaltLen)
	rand.Read(k)
	return k
}

// isSAVP reports a secure RTP profile (RFC 3711 section 12).
func isSAVP(protos []string) bool {
	p := strings.ToUpper(strings.Join(protos, "/"))
	return p == "RTP/SAVP" || p == "RTP/SAVPF"
}

// secureStream decides SRTP for an offered (or answered) audio stream
// under sec: the peer's chosen crypto line, or nil for plain RTP. An error
// (ErrNotAcceptable) means the stream cannot be used: SRTP mandatory
// (RTP/SAVP) but not possible, or required by policy but not offered.
func secureStream(md *sdp.MediaDescription, sec Security) (*cryptoAttr, error) {
	known, any := cryptoLines(md)
	savp := isSAVP(md.MediaName.Protos)
	switch {
	case sec.offers() && len(known) > 0:
		c := known[0]
		return &c, nil
	case savp && !sec.Secure:
		return nil, fmt.Errorf("%w: RTP/SAVP offered over signalling that is not TLS", ErrNotAcceptable)
	case savp && sec.SRTP == SRTPOff:
		return nil, fmt.Errorf("%w: RTP/SAVP offered to a device with SRTP off", ErrNotAcceptable)
	case savp:
		return nil, fmt.Errorf("%w: no supported crypto suite (want AES_CM_128_HMAC_SHA1_80 or _32)", ErrNotAcceptable)
	case sec.required() && any:
		return nil, fmt.Errorf("%w: SRTP required and no supported crypto suite", ErrNotAcceptable)
	case sec.required():
		return nil, fmt.Errorf("%w: SRTP required (over TLS) and none offered", ErrNotAcceptable)
	}
	return nil, nil
}

// srtpState is a session's SRTP: our key and the two contexts. The read
// loop alone uses dec and the send loop alone enc; they are swapped under
// Session.mu when a re-negotiation changes a key.
type srtpState struct {
	local    cryptoAttr // what we put in our SDP
	peer     []byte     // the peer's key our dec was made with
	enc, dec *srtp.Context
}

// applyCrypto sets up (or keeps) the contexts for the peer's chosen line;
// nil turns SRTP off. Call with s.mu held.
func (s *Session) applyCrypto(peer *cryptoAttr) error {
	if peer == nil {
		s.srtp = nil
		return nil
	}
	st := s.srtp
	if st == nil || st.local.suite != peer.suite {
		st = &srtpState{local: cryptoAttr{suite: peer.suite, key: newKey()}}
		if s.ourKey != nil && len(s.ourKey.key) == keySaltLen && s.ourKey.suite == peer.suite {
			st.local.key = s.ourKey.key // the key we offered
		}
		enc, err := st.local.context()
		if err != nil {
			return fmt.Errorf("media: srtp: %w", err)
		}
		st.enc = enc
	} else {
		st = &srtpState{local: st.local, peer: st.peer, enc: st.enc, dec: st.dec}
	}
	st.local.tag = peer.tag
	if st.dec == nil || string(st.peer) != string(peer.key) {
		dec, err := peer.context()
		if err != nil {
			return fmt.Errorf("media: srtp: %w", err)
		}
		st.dec, st.peer = dec, peer.key
	}
	s.srtp = st
	return nil
}

// Encrypted reports whether the negotiated media is SRTP.
func (s *Session) Encrypted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srtp != nil
}

// withCrypto adds our a=crypto line (and the secure profile when the peer
// used it) to an answer's audio stream.
func withCrypto(md *sdp.MediaDescription, c cryptoAttr, savp bool) *sdp.MediaDescription {
	if savp {
		md.MediaName.Protos = []string{"RTP", "SAVP"}
	}
	return md.WithValueAttribute("crypto", c.value())
}

// HasSRTPKey reports whether an SDP offers SRTP the PBX supports: an
// audio stream with an a=crypto line of a supported suite. The B2BUA uses
// it for devices that require SRTP on calls it passes through.
func HasSRTPKey(raw []byte) bool {
	var desc sdp.SessionDescription
	if desc.UnmarshalString(string(raw)) != nil {
		return false
	}
	for _, md := range desc.MediaDescriptions {
		if known, _ := cryptoLines(md); md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 && len(known) > 0 {
			return true
		}
	}
	return false
}

// SDESKey is one usable a=crypto line (tag, suite, master key and salt),
// for the B2BUA, which terminates SRTP per leg on anchored calls.
type SDESKey struct{ a cryptoAttr }

// SDESKeys are md's usable a=crypto lines, in the order offered.
func SDESKeys(md *sdp.MediaDescription) []SDESKey {
	known, _ := cryptoLines(md)
	keys := make([]SDESKey, len(known))
	for i, c := range known {
		keys[i] = SDESKey{c}
	}
	return keys
}

// NewSDESKey is a fresh random key with tag, of like's suite (the
// preferred suite, AES_CM_128_HMAC_SHA1_80, when like is nil).
func NewSDESKey(tag int, like *SDESKey) SDESKey {
	s := suites[0]
	if like != nil {
		s = like.a.suite
	}
	return SDESKey{cryptoAttr{tag: tag, suite: s, key: newKey()}}
}

// Tag is the line's tag.
func (k SDESKey) Tag() int { return k.a.tag }

// WithTag is k under another tag (the one an answer must repeat).
func (k SDESKey) WithTag(tag int) SDESKey { k.a.tag = tag; return k }

// SameSuite reports whether k and o use one crypto-suite.
func (k SDESKey) SameSuite(o SDESKey) bool { return k.a.suite == o.a.suite }

// Equal reports whether k and o are one suite and key (the tag aside).
func (k SDESKey) Equal(o SDESKey) bool { return k.SameSuite(o) && string(k.a.key) == string(o.a.key) }

// Value is the a=crypto attribute value: "tag suite inline:key".
func (k SDESKey) Value() string { return k.a.value() }

// Context is a new pion SRTP context of the key (replay-protected).
func (k SDESKey) Context() (*srtp.Context, error) { return k.a.context() }

// SAVP reports whether md uses a secure RTP profile (RTP/SAVP or SAVPF).
func SAVP(md *sdp.MediaDescription) bool { return isSAVP(md.MediaName.Protos) }
