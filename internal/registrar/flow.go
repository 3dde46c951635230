package registrar

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// A binding is a flow (issue 15 item 1): the address, port and transport
// its REGISTER came from (Source, Transport; for TCP the connection from
// there), which every request to the phone goes to (signaling.NewRequestTo),
// whether the phone is behind NAT, and its RFC 5626 outbound instance and
// reg-id. Phones behind NAT get keep-alives so their NAT keeps the flow.

// viaNAT reports whether req's top Via names another address than the one
// it came from (RFC 3581: such a phone is answered at its source, rport).
func viaNAT(req *sip.Request) bool {
	v := req.Via()
	return v != nil && signaling.SourceAddr(v.Host) != signaling.SourceAddr(req.Source())
}

// supportsOutbound reports whether req lists "outbound" in Supported (RFC
// 5626 section 4.2.1: the phone asks for it).
func supportsOutbound(req *sip.Request) bool {
	for _, h := range signaling.Headers(req, "Supported") {
		for _, tag := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(tag), "outbound") {
				return true
			}
		}
	}
	return false
}

// contactFlow is what a REGISTER's Contact says of its flow: its host (to
// tell a phone behind NAT) and its RFC 5626 outbound instance and reg-id
// ("" and 0 unless it has both and the REGISTER asked for outbound).
type contactFlow struct {
	host     string
	instance string
	regID    int
}

// contactFlows reads the flow of each of req's Contacts, by URI.
func contactFlows(req *sip.Request) map[string]contactFlow {
	out := map[string]contactFlow{}
	outbound := supportsOutbound(req)
	for _, h := range signaling.Headers(req, "Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok || ch.Address.Wildcard {
			continue
		}
		f := contactFlow{host: ch.Address.Host}
		if outbound { // RFC 5626 section 6: only when the phone asks for it
			f.instance, f.regID = outboundFlow(ch)
		}
		out[uriString(&ch.Address)] = f
	}
	return out
}

// uriString is u.String() in one allocation: sipgo's grows a
// strings.Builder from empty, ~6 allocations per Contact URI, twice per
// REGISTER (issue 18).
func uriString(u *sip.Uri) string {
	var b strings.Builder
	b.Grow(len(u.Scheme) + len(u.User) + len(u.Password) + len(u.Host) + 16 + paramsLen(u.UriParams) + paramsLen(u.Headers))
	u.StringWrite(&b)
	return b.String()
}

func paramsLen(ps sip.HeaderParams) int {
	n := 0
	for _, p := range ps {
		n += len(p.K) + len(p.V) + 2
	}
	return n
}

// outboundFlow reads a Contact's +sip.instance and reg-id; "" and 0 unless
// both are present and reg-id is a positive number (RFC 5626 section 4.2.1).
func outboundFlow(ch *sip.ContactHeader) (string, int) {
	inst, ok := ch.Params.Get("+sip.instance")
	if !ok || inst == "" {
		return "", 0
	}
	v, ok := ch.Params.Get("reg-id")
	if !ok {
		return "", 0
	}
	id, err := strconv.Atoi(v)
	if err != nil || id <= 0 {
		return "", 0
	}
	return strings.Trim(inst, `"`), id
}

// sameFlow is the index of the live binding with c's outbound instance and
// reg-id, -1 when none (or c has none).
func sameFlow(live []hotdesk.Binding, f contactFlow) int {
	if f.instance == "" {
		return -1
	}
	return slices.IndexFunc(live, func(b hotdesk.Binding) bool { return b.Instance == f.instance && b.RegID == f.regID })
}

// outboundHeaders marks the 200 of a REGISTER that asked for outbound
// (RFC 5626 section 6): Require: outbound, and Flow-Timer with the
// keep-alive interval the phone should use.
func (r *Registrar) outboundHeaders(res *sip.Response, cs []contactReq, flows map[string]contactFlow) {
	if !slices.ContainsFunc(cs, func(c contactReq) bool { return flows[c.uri].instance != "" && c.expires > 0 }) {
		return
	}
	res.AppendHeader(sip.NewHeader("Require", "outbound"))
	if d := r.keepaliveInterval(); d > 0 {
		res.AppendHeader(sip.NewHeader("Flow-Timer", strconv.Itoa(max(1, int(d/time.Second)))))
	}
}

// keepaliveInterval is Options.KeepAlive's current value; 0 is off.
func (r *Registrar) keepaliveInterval() time.Duration {
	if r.opts.KeepAlive == nil {
		return 0
	}
	return r.opts.KeepAlive()
}

// natFlows returns this node's live bindings of phones behind NAT.
func (r *Registrar) natFlows(now time.Time) []hotdesk.Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hotdesk.Binding
	for _, bs := range r.devices {
		for _, b := range bs {
			if b.NAT && b.Expires.After(now) && (r.opts.Node == "" || b.Node == "" || b.Node == r.opts.Node) {
				out = append(out, b)
			}
		}
	}
	return out
}

// keepaliveTimeout bounds the wait for the answer to one OPTIONS ping.
const keepaliveTimeout = 5 * time.Second

// keepaliveInFlight bounds the pings waiting for an answer at once.
const keepaliveInFlight = 256

// keepalives sends one round of keep-alives to the phones behind NAT,
// each in a goroutine owned by wg, at most keepaliveInFlight at once; a
// phone whose ping is still out is skipped this round.
func (r *Registrar) keepalives(ctx context.Context, wg *sync.WaitGroup, sem chan struct{}) {
	if r.sig == nil {
		return
	}
	for _, b := range r.natFlows(r.now()) {
		select {
		case sem <- struct{}{}:
		default:
			r.log.Warn("sip keep-alive: too many in flight, skipped", "device", b.Device)
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			kctx, cancel := context.WithTimeout(ctx, keepaliveTimeout)
			defer cancel()
			r.keepalivesSent.Add(1)
			if err := r.sig.KeepAlive(kctx, b); err != nil {
				r.log.Debug("sip keep-alive unanswered", "device", b.Device, "source", b.Source, "err", err)
			}
		}()
	}
}

// keepaliveRecheck is how often the keep-alive interval is looked at
// again, so a changed setting applies within it.
const keepaliveRecheck = 5 * time.Second

// nextKeepalive is when Run looks at keep-alives next: the interval, at
// most keepaliveRecheck.
func (r *Registrar) nextKeepalive() time.Duration {
	if d := r.keepaliveInterval(); d > 0 {
		return min(d, keepaliveRecheck)
	}
	return keepaliveRecheck
}
