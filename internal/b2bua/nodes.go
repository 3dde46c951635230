package b2bua

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// Nodes is what the B2BUA needs of the other PBX nodes sharing the
// database (internal/nodes.Roster): where each is, and how to sign a
// request to one.
type Nodes interface {
	Name() string // this node
	// Address is the SIP address of an alive other node: HOST:PORT, with
	// ";transport=tcp" when that node takes SIP from the others over TCP.
	Address(node string) (string, bool)
	Sign(req *sip.Request) // marks req as this node's
}

// ringHeader tells the node holding a phone how long the calling node
// rings, so the relay gives up on its own if the calling node vanishes.
const ringHeader = "X-Hotdesk-Ring"

// remoteTargets returns one target per (device, other node) for the
// device's bindings held by other nodes (issue 14: the call goes to the
// node holding the phone's flow, which sends it to the phone over that
// flow). The binding's Contact is the device at that node's address; Node
// names the node.
func (b *B2BUA) remoteTargets(ctx context.Context, device string) []hotdesk.Binding {
	if b.o.Nodes == nil {
		return nil
	}
	bs, err := b.o.Store.DeviceBindings(ctx, device, b.o.Now())
	if err != nil {
		b.log.Warn("b2bua: other nodes' bindings", "device", device, "err", err)
		return nil
	}
	self := b.o.Nodes.Name()
	var out []hotdesk.Binding
	seen := map[string]bool{}
	for _, x := range bs {
		if x.Node == self || x.Node == "" || seen[x.Node] {
			continue
		}
		seen[x.Node] = true
		addr, ok := b.o.Nodes.Address(x.Node)
		if !ok {
			b.log.Info("b2bua: phone registered with a node that is not alive", "device", device, "node", x.Node)
			continue
		}
		hostport, transport := "", "udp"
		if hp, ok := strings.CutSuffix(addr, ";transport=tcp"); ok {
			hostport, transport = hp, "tcp"
		} else {
			hostport = addr
		}
		contact := "sip:" + device + "@" + hostport
		if transport != "udp" {
			contact += ";transport=" + transport
		}
		out = append(out, hotdesk.Binding{Device: device, Contact: contact, Source: hostport, Transport: transport, Node: x.Node})
	}
	return out
}

// nodeInvite builds the leg to another node for bind (a remoteTargets
// entry): the Request-URI names the device, To the callee, and the request
// is signed as this node's.
func (b *B2BUA) nodeInvite(a *sip.Request, bind hotdesk.Binding, from party, toExt string, ring time.Duration) (*sip.Request, error) {
	r, err := b.deviceInvite(a, bind, from, toExt)
	if err != nil {
		return nil, err
	}
	r.AppendHeader(sip.NewHeader(ringHeader, strconv.Itoa(int(ring/time.Second)+5)))
	if a := b.o.SIP.TCPAddr(); bind.Transport == "tcp" && a != nil && !a.IP.IsUnspecified() {
		// Connect from this node's own address: the other node takes
		// signed requests only from the address this node registered.
		r.Laddr = sip.Addr{IP: a.IP}
	}
	b.o.Nodes.Sign(r)
	return r, nil
}

// HandleNodeInvite takes an INVITE another node (already authenticated as
// node) sent for a phone this node holds: it rings that device's contacts
// here and relays the outcome, as one more B2BUA hop. The calling node
// keeps the call's rules — first answer wins, CANCEL the rest, the call
// records of both users — so this hop writes no records and publishes no
// call events (the calling node's reach every node); it only counts the
// device as in a call. It blocks until the call is over.
func (b *B2BUA) HandleNodeInvite(req *sip.Request, tx sip.ServerTransaction, node string) {
	if _, ok := req.To().Params.Get("tag"); ok {
		signaling.Respond(tx, req, sip.StatusCallTransactionDoesNotExists, b.log)
		return
	}
	if tooManyHops(req, tx, b.log) {
		return
	}
	device := req.Recipient.User
	caller := party{Number: req.From().Address.User, Name: req.From().DisplayName}
	ext := req.To().Address.User
	c := b.newCall(req, caller, party{Device: device}, ext)
	c.hop = true
	c.log = c.log.With("from_node", node, "device", device)
	c.ring = MaxOutboundRing
	if h := req.GetHeader(ringHeader); h != nil {
		if s, err := strconv.Atoi(h.Value()); err == nil && s > 0 && time.Duration(s)*time.Second < c.ring {
			c.ring = time.Duration(s) * time.Second
		}
	}
	for _, bind := range uniqueBindings(b.o.Contacts(device)) {
		bind.Device = device
		out, err := b.deviceInvite(req, bind, caller, ext)
		if err != nil {
			c.log.Warn("b2bua: unusable contact", "err", err)
			continue
		}
		copyIdentity(out, req)
		c.addLeg(device, out, "", "")
	}
	c.bridge(req, tx)
}

// copyIdentity keeps the calling node's P-Asserted-Identity on the leg to
// the phone (the caller's extension and name, as the calling node saw it).
func copyIdentity(out, in *sip.Request) {
	if h := in.GetHeader("P-Asserted-Identity"); h != nil {
		out.RemoveHeader("P-Asserted-Identity")
		out.AppendHeader(sip.NewHeader("P-Asserted-Identity", h.Value()))
	}
}
