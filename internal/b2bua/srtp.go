package b2bua

import (
	"bytes"
	"strings"
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
