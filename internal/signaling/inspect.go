package signaling

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// This file checks every message before sipgo sees it, so that nothing
// sipgo or the router cannot handle gets past the transport: sipgo hands a
// request without To: to the router (which dereferenced it), parses LF-only
// lines as garbage, ignores the SIP version and logs every unparseable
// datagram at ERROR with its payload.

// Bad-input kinds, used as metric labels and in the rate-limited log.
const (
	kindUnparseable = "unparseable"
	kindMissing     = "missing_header"
	kindVersion     = "version"
	kindCSeqMethod  = "cseq_method"
	kindTooLarge    = "too_large"
	kindStray       = "stray_response" // matches no transaction
)

// problem is why a message is refused: the status to answer (0: drop
// without answer, e.g. a response, an ACK or no Via to answer to), a reason
// phrase and a kind for metrics and logs.
type problem struct {
	code   int
	reason string
	kind   string
	detail string // for the log: never the payload
}

// inspect checks one whole message (a datagram or a framed stream message)
// and returns it with LF-only line endings made CRLF. p.kind is "" when the
// message may go on to sipgo.
func inspect(parser *sip.Parser, data []byte) (out []byte, p problem) {
	out, _, p = inspectMsg(parser, data)
	return out, p
}

// inspectMsg is inspect that also returns the parsed message when it may
// go on (nil otherwise), so a request answered outside sipgo (see
// stateless.go) is parsed once.
func inspectMsg(parser *sip.Parser, data []byte) (out []byte, _ sip.Message, p problem) {
	if len(data) > MaxMessageSize {
		return data, nil, refuse(data, 513, "Message Too Large", kindTooLarge, strconv.Itoa(len(data))+" bytes")
	}
	data = normalizeLineEndings(data)
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	isResponse := bytes.HasPrefix(line, []byte("SIP/"))
	if !isResponse {
		// RFC 3261 7.1: Request-Line = Method SP Request-URI SP SIP-Version
		// (exactly two spaces), scanned in place.
		method, rest, _ := bytes.Cut(line, []byte(" "))
		_, version, two := bytes.Cut(rest, []byte(" "))
		if !two || bytes.IndexByte(version, ' ') >= 0 || len(method) == 0 || !isToken(method) {
			return data, nil, refuse(data, 400, "Bad Request", kindUnparseable, "bad request line")
		}
		if !bytes.EqualFold(version, []byte("SIP/2.0")) {
			if v := string(version); strings.HasPrefix(strings.ToUpper(v), "SIP/") {
				return data, nil, refuse(data, 505, "Version Not Supported", kindVersion, v)
			}
			return data, nil, refuse(data, 400, "Bad Request", kindUnparseable, "bad request line")
		}
	} else if !bytes.HasPrefix(line, []byte("SIP/2.0 ")) {
		return data, nil, problem{kind: kindVersion, detail: "response version"}
	}
	msg, err := parser.ParseSIP(data)
	if err != nil {
		return data, nil, refuse(data, 400, "Bad Request", kindUnparseable, err.Error())
	}
	if missing := missingHeader(msg); missing != "" {
		return data, nil, refuse(data, 400, "Missing "+missing, kindMissing, missing)
	}
	if req, ok := msg.(*sip.Request); ok {
		if cseq := req.CSeq(); cseq.MethodName != req.Method {
			return data, nil, refuse(data, 400, "CSeq Method Mismatch", kindCSeqMethod, string(cseq.MethodName)+" in "+string(req.Method))
		}
		if sc := strings.ToLower(req.Recipient.Scheme); (sc == "sip" || sc == "sips") && req.Recipient.Host == "" {
			// tel: URIs (RFC 3966) have no host and are fine.
			return data, nil, refuse(data, 400, "Bad Request-URI", kindUnparseable, "no host in Request-URI")
		}
		// Without an RFC 3261 branch, matching needs the From tag (17.2.3).
		if !hasRFC3261Branch(req) {
			if _, err := sip.ServerTxKeyMake(req); err != nil {
				return data, nil, refuse(data, 400, "Bad Request", kindMissing, err.Error())
			}
		}
	}
	return data, msg, problem{}
}

// missingHeader names the first mandatory header (RFC 3261 8.1.1) that msg
// lacks or that sipgo could not make sense of.
func missingHeader(msg sip.Message) string {
	if v := msg.Via(); v == nil || v.Host == "" {
		return "Via"
	}
	if msg.From() == nil {
		return "From"
	}
	if msg.To() == nil {
		return "To"
	}
	if c := msg.CallID(); c == nil || strings.TrimSpace(c.Value()) == "" {
		return "Call-ID"
	}
	if msg.CSeq() == nil {
		return "CSeq"
	}
	if req, ok := msg.(*sip.Request); ok && req.MaxForwards() == nil && req.Method != sip.ACK {
		return "Max-Forwards"
	}
	return ""
}

// refuse returns the problem, answered with code when data is a request
// (not an ACK) that carries a Via to answer along; dropped otherwise.
func refuse(data []byte, code int, reason, kind, detail string) problem {
	p := problem{code: code, reason: reason, kind: kind, detail: detail}
	if bytes.HasPrefix(data, []byte("SIP/")) || bytes.HasPrefix(data, []byte("ACK ")) || !answerable(rawHeaders(data)["via"]) {
		p.code = 0
	}
	return p
}

// answerable reports whether a response can carry these Via values: the
// top one must at least name a SIP/2.0 transport and a sent-by host.
func answerable(vias []string) bool {
	if len(vias) == 0 {
		return false
	}
	f := strings.Fields(vias[0])
	return len(f) >= 2 && strings.HasPrefix(strings.ToUpper(f[0]), "SIP/2.0/") && len(f[0]) > len("SIP/2.0/") &&
		f[1] != "" && f[1][0] != ';'
}

// compact maps RFC 3261 7.3.3 compact header names to the long ones.
var compact = map[string]string{"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length"}

// rawHeaders collects the header lines a response needs (Via, From, To,
// Call-ID, CSeq; and Content-Length for framing) without parsing them,
// keyed by lower-case long name, values in order. Folded lines are joined.
func rawHeaders(data []byte) map[string][]string {
	head, _ := splitHead(data)
	out := map[string][]string{}
	var last string
	for i, l := range strings.Split(head, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if i == 0 || l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			if vs := out[last]; len(vs) > 0 {
				vs[len(vs)-1] += " " + strings.TrimSpace(l)
			}
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			last = ""
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if long, ok := compact[name]; ok {
			name = long
		}
		switch name {
		case "via", "from", "to", "call-id", "cseq", "content-length":
		default:
			last = ""
			continue
		}
		last = name
		value = strings.TrimSpace(value)
		if name == "via" {
			// Several Via values may share one line, split at top-level commas.
			for _, v := range strings.Split(value, ",") {
				if v = strings.TrimSpace(v); v != "" {
					out[name] = append(out[name], v)
				}
			}
			continue
		}
		out[name] = append(out[name], value)
	}
	return out
}

// rawResponse builds a response to data from its raw header lines, for
// requests sipgo cannot parse or should not see. It echoes Via, From, To
// (with a tag added, RFC 3261 8.2.6.2), Call-ID and CSeq.
func rawResponse(data []byte, code int, reason, server string) []byte {
	h := rawHeaders(data)
	var b bytes.Buffer
	b.WriteString("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n")
	one := func(name, v string) {
		v = strings.Map(func(r rune) rune {
			if r == '\r' || r == 0 {
				return ' '
			}
			return r
		}, v)
		if v != "" { // an empty value would make the response unparseable
			b.WriteString(name + ": " + v + "\r\n")
		}
	}
	for _, v := range h["via"] {
		one("Via", v)
	}
	if v := h["from"]; len(v) > 0 {
		one("From", v[0])
	}
	if v := h["to"]; len(v) > 0 {
		to := v[0]
		if !strings.Contains(strings.ToLower(to), "tag=") {
			to += ";tag=hd" + strconv.FormatUint(rand.Uint64(), 36)
		}
		one("To", to)
	}
	if v := h["call-id"]; len(v) > 0 {
		one("Call-ID", v[0])
	}
	if v := h["cseq"]; len(v) > 0 {
		one("CSeq", v[0])
	}
	if server != "" {
		one("Server", server)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}

// splitHead returns the header section (start line included, final empty
// line excluded) and whether its end was found. Lines may end in CRLF or
// LF alone.
func splitHead(data []byte) (head string, complete bool) {
	end, _, ok := headEnd(data)
	if !ok {
		return string(data), false
	}
	return string(data[:end]), true
}

// headEnd finds the empty line ending the header section: head is the
// offset where the empty line starts (after the last header's line end),
// body where the body starts.
func headEnd(data []byte) (head, body int, ok bool) {
	for i := 0; i < len(data); i++ {
		if data[i] != '\n' {
			continue
		}
		j := i + 1
		if j < len(data) && data[j] == '\n' {
			return i + 1, j + 1, true
		}
		if j+1 < len(data) && data[j] == '\r' && data[j+1] == '\n' {
			return i + 1, j + 2, true
		}
	}
	return 0, 0, false
}

// normalizeLineEndings turns LF-only line ends in the header section into
// CRLF (RFC 3261 7.5 asks receivers to be tolerant; sipgo's parser wants
// CRLF). The body is left as it is: Content-Length counts its bytes.
func normalizeLineEndings(data []byte) []byte {
	_, body, ok := headEnd(data)
	if !ok {
		body = len(data)
	}
	bare := 0
	for i := 0; i < body; i++ {
		if data[i] == '\n' && (i == 0 || data[i-1] != '\r') {
			bare++
		}
	}
	if bare == 0 {
		return data
	}
	out := make([]byte, 0, len(data)+bare)
	for i := 0; i < body; i++ {
		if data[i] == '\n' && (i == 0 || data[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, data[i])
	}
	return append(out, data[body:]...)
}

// isToken reports whether s is an RFC 3261 25.1 token (a method name).
func isToken[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
