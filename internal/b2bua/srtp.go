package b2bua

import (
	"bytes"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// keysFor is an SDP body as it may be sent over transport. Between phones
// the PBX passes SDES-SRTP (RFC 4568) through: the a=crypto lines go end to
// end, but only over TLS. On any other transport they are dropped (section
// 8.3: the keys are as secret as the media), so a plain leg negotiates
// plain RTP, and an RTP/SAVP offer without keys is refused by the phone
// that cannot meet it.
func keysFor(body []byte, transport string) []byte {
	if strings.EqualFold(transport, "TLS") || !bytes.Contains(body, []byte("a=crypto:")) {
		return body
	}
	var out []byte
	for rest := body; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		if !bytes.HasPrefix(line, []byte("a=crypto:")) {
			out = append(out, line...)
		}
	}
	return out
}

// srtpRefused reports whether a call from dev must be refused (488) by
// its SRTP policy: a device that requires SRTP calls over TLS with a key
// of a supported suite (an offerless INVITE over TLS may still get one in
// its answer). Emergency calls are never refused for it.
func srtpRefused(req *sip.Request, dev *hotdesk.Device) bool {
	if dev.SRTP != hotdesk.SRTPRequired {
		return false
	}
	if !signaling.Secure(req) {
		return true
	}
	return len(req.Body()) > 0 && !media.HasSRTPKey(req.Body())
}
