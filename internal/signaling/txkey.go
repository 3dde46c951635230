package signaling

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// serverTxKey is sipgo's server transaction key of req
// (sip.ServerTxKeyMake, RFC 3261 17.2.3), followed by sep and source
// (both may be empty): with an RFC 3261 branch it is built in one
// allocation. sipgo's builder grows its buffer as it goes and formats
// the port apart (3–4 allocations a key), and a UDP REGISTER's key was
// made twice (inspect, then the stateless transaction) and joined to its
// source once more: eight allocations of a REGISTER's ~100 (issue 18).
func serverTxKey(req *sip.Request, sep, source string) (string, error) {
	via, cseq := req.Via(), req.CSeq()
	if via == nil || cseq == nil || !hasRFC3261Branch(req) {
		key, err := sip.ServerTxKeyMake(req) // its error, or an RFC 2543 key
		if err != nil {
			return "", err
		}
		return key + sep + source, nil
	}
	branch, _ := via.Params.Get("branch")
	method := cseq.MethodName
	if method == sip.ACK {
		method = sip.INVITE // an ACK of a non-2xx is its INVITE's
	}
	port := via.Port
	if port <= 0 {
		port = defaultPort(via.Transport)
	}
	var num [20]byte
	p := strconv.AppendInt(num[:0], int64(port), 10)
	var b strings.Builder
	b.Grow(len(branch) + len(via.Host) + len(p) + len(method) + 3*len(sip.TxSeperator) + len(sep) + len(source))
	b.WriteString(branch)
	b.WriteString(sip.TxSeperator)
	b.WriteString(via.Host)
	b.WriteString(sip.TxSeperator)
	b.Write(p)
	b.WriteString(sip.TxSeperator)
	b.WriteString(string(method))
	b.WriteString(sep)
	b.WriteString(source)
	return b.String(), nil
}

// hasRFC3261Branch reports whether req's top Via has a branch starting
// with RFC 3261's magic cookie and more (then its key needs nothing else).
func hasRFC3261Branch(req *sip.Request) bool {
	via := req.Via()
	if via == nil {
		return false
	}
	branch, ok := via.Params.Get("branch")
	return ok && len(branch) > len(sip.RFC3261BranchMagicCookie) && strings.HasPrefix(branch, sip.RFC3261BranchMagicCookie)
}

// defaultPort is sip.DefaultPort without lowering transport into a new
// string.
func defaultPort(transport string) int {
	for _, d := range []struct {
		t    string
		port int
	}{{"tls", sip.DefaultTlsPort}, {"udp", sip.DefaultUdpPort}, {"ws", sip.DefaultWsPort}, {"wss", sip.DefaultWssPort}} {
		if strings.EqualFold(transport, d.t) {
			return d.port
		}
	}
	return sip.DefaultTcpPort // TCP, and sipgo's default
}
