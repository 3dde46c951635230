package signaling

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/hotdesk-pbx/hotdesk"
)

// maxUDPMessage is the largest UDP payload (65535 - IP and UDP headers).
const maxUDPMessage = 65507

func init() {
	// sipgo refuses to write any UDP message over UDPMTUSize-200 (1300)
	// bytes. When to prefer TCP for a large request is the PBX's choice
	// (RFC 3261 18.1.1, b2bua); when the TCP connection is refused an
	// emergency INVITE with its PIDF-LO must still go over UDP, fragmented
	// by IP. Set once here, where the sipgo user agent is owned.
	sip.UDPMTUSize = maxUDPMessage + 200
}

// PBXUser is the user part of the PBX's own SIP URI (sip:hotdesk@domain),
// the From of every request it originates on its own behalf.
const PBXUser = "hotdesk"

// Event header values of a check-sync NOTIFY (the de facto form Snom,
// Yealink, Grandstream, Polycom and Gigaset document, sent outside any
// subscription): with reboot=false the phone re-fetches its configuration
// in place, with reboot=true it reboots to apply it.
const (
	CheckSync       = "check-sync;reboot=false"
	CheckSyncReboot = "check-sync;reboot=true"
)

// Out describes a request the PBX originates outside a dialog. Zero fields
// take the defaults named on each.
type Out struct {
	Method    sip.RequestMethod
	URI       sip.Uri // Request-URI
	Dest      string  // host:port the packet goes to; "" = the Request-URI's
	Transport string  // "udp" (default), "tcp" or "tls"

	From     sip.Uri // "" = the PBX's own URI, sip:hotdesk@domain
	FromName string  // display name of From; quotes and controls are dropped
	To       sip.Uri // "" = the Request-URI without port and parameters

	CallID      string // "" = a new one
	CSeq        uint32 // 0 = 1
	MaxForwards int    // 0 = 70
}

// NewRequest builds a request the PBX originates with one well-formed set
// of headers (RFC 3261 8.1.1): From with a tag and a URI in the PBX's
// domain, To, Call-ID, CSeq, Max-Forwards and a Contact at the PBX's
// listening address on the request's transport. Via is added when the
// request is sent (sipgo, with the listening host and port), and every UDP
// request leaves from the listening socket (see sourceRequester).
func (s *Server) NewRequest(o Out) *sip.Request {
	req := sip.NewRequest(o.Method, o.URI)
	if o.Dest != "" {
		req.SetDestination(o.Dest)
	}
	transport := strings.ToUpper(o.Transport)
	if transport == "" {
		transport = "UDP"
	}
	req.SetTransport(transport)

	from := o.From
	if from.Host == "" {
		from = s.LocalURI()
	}
	fh := &sip.FromHeader{DisplayName: cleanDisplayName(o.FromName), Address: from, Params: sip.NewParams()}
	fh.Params.Add("tag", sip.GenerateTagN(16))
	to := o.To
	if to.Host == "" {
		to = sip.Uri{Scheme: o.URI.Scheme, User: o.URI.User, Host: o.URI.Host}
	}
	callID := sip.CallIDHeader(o.CallID)
	if o.CallID == "" {
		callID = sip.CallIDHeader(uuid.NewString())
	}
	cseq := o.CSeq
	if cseq == 0 {
		cseq = 1
	}
	mf := sip.MaxForwardsHeader(70)
	if o.MaxForwards > 0 {
		mf = sip.MaxForwardsHeader(o.MaxForwards)
	}
	ct := s.Contact(transport)
	req.AppendHeader(fh)
	req.AppendHeader(&sip.ToHeader{Address: to})
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: o.Method})
	req.AppendHeader(&mf)
	req.AppendHeader(&ct)
	req.SetBody(nil)
	return req
}

// NewRequestTo builds an out-of-dialog request from the PBX to a
// registered contact: the Request-URI is the contact as registered, To is
// the device's address of record (sip:device@domain), and the packet goes
// to the address the REGISTER came from (so phones behind NAT are reached)
// over the same transport, reusing the phone's TCP connection where there
// is one (RFC 5626 flow). Callers may replace From (a call leg presents
// the caller).
func (s *Server) NewRequestTo(method sip.RequestMethod, b hotdesk.Binding) (*sip.Request, error) {
	uri, err := ParseContact(b.Contact)
	if err != nil {
		return nil, err
	}
	o := Out{Method: method, URI: uri, Dest: b.Source, Transport: b.Transport}
	if b.Device != "" {
		o.To = sip.Uri{Scheme: "sip", User: b.Device, Host: s.Domain()}
	}
	return s.NewRequest(o), nil
}

// ParseContact parses a registered Contact ("<sip:…>" or "sip:…") into a
// Request-URI.
func ParseContact(contact string) (sip.Uri, error) {
	var uri sip.Uri
	c := strings.TrimSpace(contact)
	if i := strings.IndexByte(c, '<'); i >= 0 {
		c = c[i+1:]
		if j := strings.IndexByte(c, '>'); j >= 0 {
			c = c[:j]
		}
	}
	if err := sip.ParseUri(c, &uri); err != nil {
		return uri, fmt.Errorf("parse contact %q: %w", contact, err)
	}
	if uri.Host == "" {
		return uri, fmt.Errorf("contact %q has no host", contact)
	}
	return uri, nil
}

// Domain is the PBX's SIP domain (Options.Domain, else the advertised
// host).
func (s *Server) Domain() string {
	if s.opts.Domain != "" {
		return s.opts.Domain
	}
	return s.opts.Hostname
}

// LocalURI is the PBX's own SIP URI, sip:hotdesk@domain.
func (s *Server) LocalURI() sip.Uri {
	return sip.Uri{Scheme: "sip", User: PBXUser, Host: s.Domain()}
}

// Contact is the PBX's Contact on transport ("udp", "tcp" or "tls"): the
// advertised host and the listening port, with transport=tcp/tls when not
// UDP.
func (s *Server) Contact(transport string) sip.ContactHeader {
	uri := sip.Uri{Scheme: "sip", Host: s.opts.Hostname}
	switch t := strings.ToLower(transport); {
	case t == "tls" && s.tls != nil:
		uri.Port = s.TLSAddr().Port
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", t)
	case (t == "tcp" || t == "tls") && s.tcp != nil:
		uri.Port = s.TCPAddr().Port
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", t)
	case s.udp != nil:
		uri.Port = s.UDPAddr().Port
	}
	return sip.ContactHeader{Address: uri}
}

// cleanDisplayName makes s safe inside a quoted display name.
func cleanDisplayName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// sourceRequester is the client's transaction requester: every UDP request
// the PBX sends (new requests, in-dialog ones sipgo builds, ACKs and
// CANCELs) leaves from the listening UDP socket, so its source port is the
// one in Via and the one phones registered to. Without it sipgo opens an
// ephemeral socket for a peer that has not sent anything since the start
// (the first NOTIFY or INVITE to each phone after a restart, every trunk
// request), which phones behind NAT or accepting only their proxy drop.
// TCP requests are left to sipgo: it reuses the connection the phone
// registered over (keyed by its source address), else connects.
type sourceRequester struct {
	s      *Server
	served atomic.Bool // the UDP listener is in sipgo's connection pool
}

// listenerWait bounds the wait for sipgo to serve the UDP listener.
const listenerWait = 2 * time.Second

// Request sends req: ACK straight to the transport, others as a client
// transaction.
func (r *sourceRequester) Request(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	if r.s.pinSource(req) {
		r.waitServed(ctx)
	}
	if req.IsAck() {
		return nil, r.s.UA.TransportLayer().WriteMsg(req)
	}
	// sipgo's TransactionLayer.Request, with the transaction indexed
	// before Init sends the request: a response read before that went
	// to sipgo, parsed again (45% of them from a peer on loopback).
	tx, err := r.s.UA.TransactionLayer().NewClientTransaction(ctx, req)
	if err != nil {
		return nil, err
	}
	r.s.clients.add(tx) // its responses parsed once (deliverResponse)
	if err := tx.Init(); err != nil {
		tx.Terminate()
		return nil, err
	}
	return tx, nil
}

// waitServed waits, bounded, until sipgo serves the UDP listener (Serve
// runs it in a goroutine): before that its connection pool does not hold
// the listener, and a request pinned to it would try to bind the port
// again and fail (a request made right at start-up).
func (r *sourceRequester) waitServed(ctx context.Context) {
	if r.served.Load() {
		return
	}
	pool := r.s.UA.TransportLayer().Pool("udp")
	addr := r.s.udp.LocalAddr().String()
	limit := time.NewTimer(listenerWait)
	defer limit.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if c := pool.Get(addr); c != nil {
			c.TryClose() // Get took a reference; a listener ignores it
			r.served.Store(true)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-limit.C:
			return
		case <-tick.C:
		}
	}
}

// pinSource binds a UDP request to the listening socket and reports
// whether it did.
func (s *Server) pinSource(req *sip.Request) bool {
	if s.udp == nil || !strings.EqualFold(req.Transport(), "UDP") {
		return false
	}
	a := s.udp.LocalAddr().(*net.UDPAddr)
	req.Laddr = sip.Addr{IP: a.IP, Port: a.Port, Hostname: a.IP.String()}
	return true
}
