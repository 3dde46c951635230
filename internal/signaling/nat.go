package signaling

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
)

// BehindNAT reports whether req's sender wrote an address that is not
// where req came from (RFC 3581 section 4: the sent-by of its top Via, or
// its Contact's host): a phone behind NAT, whose own address cannot be
// reached from here. A host name in either counts as not reachable too.
func BehindNAT(req *sip.Request) bool {
	src := SourceAddr(req.Source())
	if !src.IsValid() {
		return false
	}
	if v := req.Via(); v != nil && hostAddr(v.Host) != src {
		return true
	}
	if c := req.Contact(); c != nil && !c.Address.Wildcard && hostAddr(c.Address.Host) != src {
		return true
	}
	return false
}

// SourceAddr is the IP of an "ip:port" (or bare IP) source, unmapped;
// invalid for anything else.
func SourceAddr(s string) netip.Addr {
	// A bare host (a Via or Contact host, per REGISTER) goes straight to
	// hostAddr: netip.ParseAddrPort's error for it is an allocation.
	if i := strings.LastIndexByte(s, ':'); i < 0 || s[len(s)-1] == ']' || s[0] != '[' && strings.IndexByte(s, ':') != i {
		return hostAddr(s)
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	return hostAddr(s)
}

func hostAddr(h string) netip.Addr {
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// crlfPing is the RFC 5626 section 3.5.1 keep-alive ping on a stream flow.
var crlfPing = []byte("\r\n\r\n")

// KeepAlive keeps a phone's flow through its NAT open (issue 15 item 1):
// over UDP an OPTIONS to the flow, waiting (bounded by ctx) for any final
// answer; over TCP or TLS a CRLF ping on the phone's own connection (the
// phone answers a CRLF pong, which the transport drops). It returns an
// error when the phone did not answer or its connection is gone.
func (s *Server) KeepAlive(ctx context.Context, b hotdesk.Binding) error {
	if t := strings.ToLower(b.Transport); t == "tcp" || t == "tls" {
		c := s.UA.TransportLayer().Pool(t).Get(b.Source)
		if c == nil {
			return fmt.Errorf("keep-alive %s: no %s connection from %s", b.Device, t, b.Source)
		}
		defer c.TryClose() // Get took a reference
		w, ok := c.(io.Writer)
		if !ok {
			return fmt.Errorf("keep-alive %s: connection cannot be written", b.Device)
		}
		if _, err := w.Write(crlfPing); err != nil {
			return fmt.Errorf("keep-alive %s: %w", b.Device, err)
		}
		return nil
	}
	req, err := s.NewRequestTo(sip.OPTIONS, b)
	if err != nil {
		return fmt.Errorf("keep-alive %s: %w", b.Device, err)
	}
	res, err := s.Client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("keep-alive %s: %w", b.Device, err)
	}
	if res == nil {
		return fmt.Errorf("keep-alive %s: no answer", b.Device)
	}
	return nil // any answer, even 404 or 405, came through the NAT
}

// markReceived adds received=<source IP> to req's top Via when its
// sent-by host is not the address req came from (RFC 3261 section
// 18.2.1), so every response built from req tells the phone its public
// address. With an empty rport sipgo adds received and rport itself
// (RFC 3581 section 4) when the response is built.
func markReceived(req *sip.Request) {
	v := req.Via()
	if v == nil || v.Params == nil {
		return
	}
	if _, ok := v.Params.Get("received"); ok {
		return
	}
	if rport, ok := v.Params.Get("rport"); ok && rport == "" {
		return
	}
	src := SourceAddr(req.Source())
	if src.IsValid() && hostAddr(v.Host) != src {
		v.Params.Add("received", src.String())
	}
}
