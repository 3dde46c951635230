package registrar

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	icdigest "github.com/icholy/digest"
)

// contactReq is one Contact of a REGISTER with its requested expiry.
type contactReq struct {
	uri     string
	expires int // seconds; 0 removes the binding
}

// parseContacts reads the Contact headers (every one of them, RFC 3261
// 10.2.1.2) and their expiry: the contact's expires parameter, else the
// Expires header, else def. wildcard is true for "Contact: *", which must
// stand alone with Expires: 0 (RFC 3261 10.3 step 6).
func parseContacts(req *sip.Request, def int) (cs []contactReq, wildcard bool, err error) {
	hdrExpires := -1
	if h := signaling.Header(req, "Expires"); h != nil {
		if hdrExpires, err = parseExpires(h.Value()); err != nil {
			return nil, false, fmt.Errorf("bad Expires header: %w", err)
		}
		def = hdrExpires
	}
	for _, h := range signaling.Headers(req, "Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			return nil, false, fmt.Errorf("unparsed Contact header %q", h.Value())
		}
		if ch.Address.Wildcard {
			wildcard = true
			continue
		}
		c := contactReq{uri: uriString(&ch.Address), expires: def}
		if v, ok := ch.Params.Get("expires"); ok {
			if c.expires, err = parseExpires(v); err != nil {
				return nil, false, fmt.Errorf("bad expires parameter in Contact %q: %w", c.uri, err)
			}
		}
		if ch.Address.Host == "" {
			return nil, false, fmt.Errorf("contact %q has no host", c.uri)
		}
		cs = append(cs, c)
	}
	if wildcard && (len(cs) > 0 || hdrExpires != 0) {
		return nil, false, fmt.Errorf("Contact: * needs Expires: 0 and no other contacts")
	}
	return cs, wildcard, nil
}

// parseExpires parses delta-seconds; values above 2^32-1 are clamped (RFC
// 3261 section 25: delta-seconds).
func parseExpires(v string) (int, error) {
	v = strings.TrimSpace(v)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not delta-seconds", v)
	}
	if n > 1<<32-1 {
		n = 1<<32 - 1
	}
	return int(n), nil
}

// handleRegisterRead is the REGISTER handler signaling calls in its read
// loops (HandleStateless): a REGISTER that may wait — for a store query
// (credentials not cached) or for the group commit of a device's first
// binding — is handled in a goroutine of its own; the rest (challenges,
// refreshes: nearly all) at once, without one.
//
// Such a REGISTER is a job for the credential lookup workers (lookups):
// the worker looks the device up, checks the digest and updates the
// table, and a first binding's 200 is sent by a worker again once the
// group commit stored it (registerOn, stored.then), so no goroutine
// waits for the store per first REGISTER. A goroutine per first
// REGISTER cost its start, the growth of its stack and two wake-ups
// (10,000 first registrations over 1,000 TCP connections, issue 18).
// With the queue full or the workers not serving, it is handled in a
// goroutine of its own, as before.
func (r *Registrar) handleRegisterRead(req *sip.Request, tx sip.ServerTransaction) {
	// The credentials are parsed once, for mayWait and the check.
	c := &creds{}
	c.c, c.err = findCredentials(req, wwwAuth.credentials, r.opts.Realm)
	if r.mayWait(c) {
		if !r.secrets.pool.submit(c.c.Username, func(ctx context.Context) { r.registerOn(ctx, req, tx, c, true) }) {
			r.spawned.Add(1)
			go r.handleRegisterCreds(req, tx, c)
		}
		return
	}
	r.handleRegisterCreds(req, tx, c)
}

// creds are a request's parsed credentials (findCredentials).
type creds struct {
	c   *icdigest.Credentials
	err error
}

// mayWait reports whether handling a REGISTER with credentials c may wait
// on the store.
func (r *Registrar) mayWait(cr *creds) bool {
	c, err := cr.c, cr.err
	if err != nil || c == nil || c.Username == "" {
		return false // 400 or a challenge
	}
	now := r.now()
	if !r.secrets.fresh(c.Username, now) {
		return true
	}
	r.mu.Lock()
	bound := len(r.devices[c.Username]) > 0
	r.mu.Unlock()
	return !bound
}

func (r *Registrar) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	r.handleRegisterCreds(req, tx, nil)
}

// handleRegisterCreds handles a REGISTER whose credentials were parsed
// already (nil: not yet).
func (r *Registrar) handleRegisterCreds(req *sip.Request, tx sip.ServerTransaction, c *creds) {
	r.registerOn(context.Background(), req, tx, c, false)
}

// registerOn handles a REGISTER (see handleRegisterCreds). With async
// set it does not wait for a first binding's group commit: the 200 (or
// the 503) is sent after it by a worker (afterStored).
func (r *Registrar) registerOn(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, c *creds, async bool) {
	dev, ok := r.authenticate(ctx, req, tx, wwwAuth, false, c)
	if !ok {
		return
	}
	if to := req.To(); to == nil || to.Address.User != dev.id {
		r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "To Does Not Match Credentials", nil), false)
		return
	}
	cs, wildcard, err := parseContacts(req, r.opts.DefaultExpires)
	if err != nil {
		r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Contact", nil), false)
		return
	}
	for _, c := range cs {
		if c.expires > 0 && c.expires < r.opts.MinExpires {
			res := sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(r.opts.MinExpires)))
			r.reply(req, tx, res, false)
			return
		}
	}
	now := r.now()
	flows := contactFlows(req)
	ch := r.apply(dev.id, req, cs, flows, wildcard, now)
	finish := func(err error) { r.finishRegister(req, tx, dev.id, ch, cs, flows, now, err) }
	switch {
	case ch.wait == nil:
		finish(nil)
	case async:
		r.afterStored(ch.wait, finish)
	default:
		finish(r.waitStored(ch.wait))
	}
}

// finishRegister answers a REGISTER whose change ch was applied (and,
// for a first binding, stored or not: err).
func (r *Registrar) finishRegister(req *sip.Request, tx sip.ServerTransaction, device string, ch change, cs []contactReq, flows map[string]contactFlow, now time.Time, err error) {
	if err != nil {
		r.log.Error("sip register: store new binding", "device", device, "error", err)
		r.reply(req, tx, signaling.NewResponse(req, sip.StatusServiceUnavailable), false)
		return
	}
	if ch.event != "" {
		r.publish(ch.event, device, req.Source(), ch.detail, now)
	}
	res := r.okResponse(req, ch.current, now)
	r.outboundHeaders(res, cs, flows)
	r.reply(req, tx, res, false)
}

// okResponse is the 200 listing every current binding (RFC 3261 10.3 step 8).
func (r *Registrar) okResponse(req *sip.Request, bs []hotdesk.Binding, now time.Time) *sip.Response {
	res := r.response(req, sip.StatusOK, "OK")
	for _, b := range bs {
		left := int(b.Expires.Sub(now).Round(time.Second) / time.Second)
		res.AppendHeader(sip.NewHeader("Contact", "<"+b.Contact+">;expires="+strconv.Itoa(left)))
	}
	res.AppendHeader(sip.NewHeader("Date", r.date(now)))
	return res
}

// response is sipgo's NewResponseFromRequest for a REGISTER's 401 and
// 200 (RFC 3261 8.2.6: the request's Via, From, To, Call-ID and CSeq, a
// To tag; RFC 3581: rport and received in the top Via when asked for)
// without its copies of the headers the response shares unchanged with
// the request, and with the registrar's own To tag (toTag) instead of
// sipgo's uuid.NewString, which read crypto/rand for each: ~20
// allocations per REGISTER (issue 18). The request's headers are only
// read while the response is written; the top Via (given rport and
// received) and the To (given a tag) are copies.
func (r *Registrar) response(req *sip.Request, status int, reason string) *sip.Response {
	res := sip.NewResponse(status, reason)
	res.SipVersion = req.SipVersion
	top := true
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), "Via") {
			continue
		}
		if v, ok := h.(*sip.ViaHeader); ok && top {
			if val, ok := v.Params.Get("rport"); ok && val == "" {
				v = v.Clone()
				host, port, _ := net.SplitHostPort(req.Source())
				v.Params.Add("rport", port)
				v.Params.Add("received", host)
				h = v
			}
		}
		top = false
		res.AppendHeader(h)
	}
	if h := req.From(); h != nil {
		res.AppendHeader(h)
	}
	if h := req.To(); h != nil {
		to := &sip.ToHeader{DisplayName: h.DisplayName, Address: h.Address, Params: h.Params}
		if !to.Params.Has("tag") {
			to.Params = make(sip.HeaderParams, len(h.Params), len(h.Params)+1)
			copy(to.Params, h.Params)
			to.Params.Add("tag", r.toTag())
		}
		res.AppendHeader(to)
	}
	if h := req.CallID(); h != nil {
		res.AppendHeader(h)
	}
	if h := req.CSeq(); h != nil {
		res.AppendHeader(h)
	}
	res.AppendHeader(&contentLength0)
	res.SetTransport(req.Transport())
	res.SetDestination(req.Source())
	return res
}

// contentLength0 is the Content-Length of the responses response builds
// (no body), shared: a header is replaced, never changed (SetBody).
var contentLength0 = sip.ContentLengthHeader(0)

// toTag is a To tag unique to this process (a counter) and to the
// process (a random suffix), with no HMAC per REGISTER as when a nonce
// was cut for it.
func (r *Registrar) toTag() string {
	n := r.toTagSeq.Add(1)
	return "r" + strconv.FormatUint(n, 36) + "." + r.tagSuffix
}

// date is the Date header value of now, formatted once per second.
func (r *Registrar) date(now time.Time) string {
	sec := now.Unix()
	if d := r.dateCache.Load(); d != nil && d.sec == sec {
		return d.value
	}
	d := &dateValue{sec: sec, value: now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")}
	r.dateCache.Store(d)
	return d.value
}

type dateValue struct {
	sec   int64
	value string
}

// change is what one REGISTER did to a device's bindings.
type change struct {
	current []hotdesk.Binding // after the request
	wait    *stored           // set when a new device's binding must be stored before the 200
	event   string            // KindRegistered / KindUnregistered on a transition
	detail  string
}

// apply updates the device's bindings from one REGISTER under the table lock.
func (r *Registrar) apply(device string, req *sip.Request, cs []contactReq, flows map[string]contactFlow, wildcard bool, now time.Time) change {
	callID, cseq := "", uint32(0)
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	live := r.liveLocked(device, now)
	wasEmpty := len(live) == 0
	for _, b := range live {
		if b.CallID == callID && b.CSeq >= cseq {
			// RFC 3261 10.3 step 7: an old or out-of-order REGISTER changes nothing.
			return change{current: slices.Clone(live)}
		}
	}
	if wildcard {
		for _, b := range live {
			r.markDeleteLocked(b)
		}
		live = nil
	}
	base := hotdesk.Binding{Device: device, CallID: callID, CSeq: cseq, Source: req.Source(),
		Transport: transportName(req.Transport()), Node: r.opts.Node, Updated: now, NAT: viaNAT(req)}
	if h := signaling.Header(req, "User-Agent"); h != nil {
		base.UserAgent = h.Value()
	}
	for _, c := range cs {
		live = r.upsertLocked(live, base, c, flows[c.uri], now)
	}
	live = r.capLocked(live)
	r.setLocked(device, live)
	return r.transitionLocked(device, wasEmpty, live, base, now)
}

// upsertLocked adds, refreshes or (expires 0) removes one contact.
func (r *Registrar) upsertLocked(live []hotdesk.Binding, base hotdesk.Binding, c contactReq, f contactFlow, now time.Time) []hotdesk.Binding {
	i := slices.IndexFunc(live, func(b hotdesk.Binding) bool { return b.Contact == c.uri })
	if j := sameFlow(live, f); i < 0 && j >= 0 {
		// RFC 5626 section 6: the same instance and reg-id over a new
		// flow (another Contact) replaces the binding.
		r.markDeleteLocked(live[j])
		if c.expires == 0 {
			return slices.Delete(live, j, j+1)
		}
		live = slices.Delete(live, j, j+1)
	}
	if c.expires == 0 {
		if i >= 0 {
			r.markDeleteLocked(live[i])
			live = slices.Delete(live, i, i+1)
		}
		return live
	}
	b := base
	b.Contact = c.uri
	b.NAT = base.NAT || signaling.SourceAddr(f.host) != signaling.SourceAddr(base.Source)
	b.Instance, b.RegID = f.instance, f.regID
	b.Expires = now.Add(time.Duration(min(c.expires, r.opts.MaxExpires)) * time.Second)
	if i >= 0 {
		b = keepStrings(b, live[i])
		r.markRefreshLocked(live[i], b, now)
		live[i] = b
		return live
	}
	b = packStrings(b)
	r.markPutLocked(b)
	return append(live, b)
}

// keepStrings makes a refresh keep the strings its binding had where they
// are equal (a phone's Contact, source and user agent do not change
// between refreshes), so the table holds no new copies from every
// REGISTER scattered among its garbage: after a GC those pinned
// partly-empty spans, ~6 MB per 10,000 bindings of heap in use (issue 18).
func keepStrings(b, old hotdesk.Binding) hotdesk.Binding {
	b.Device = old.Device
	b.Contact = old.Contact // the same URI: how the binding was found
	if b.CallID == old.CallID {
		b.CallID = old.CallID
	}
	if b.UserAgent == old.UserAgent {
		b.UserAgent = old.UserAgent
	}
	if b.Source == old.Source {
		b.Source = old.Source
	}
	if b.Instance == old.Instance {
		b.Instance = old.Instance
	}
	return b
}

// packStrings copies a new binding's strings from the request into one
// allocation (see keepStrings), its device id too: the table's key is
// the first binding's (setLocked), so the table keeps no piece of the
// credential cache's entries alive.
func packStrings(b hotdesk.Binding) hotdesk.Binding {
	all := b.Device + b.Contact + b.CallID + b.UserAgent + b.Source + b.Instance
	cut := func(n int) string {
		s := all[:n]
		all = all[n:]
		return s
	}
	b.Device = cut(len(b.Device))
	b.Contact = cut(len(b.Contact))
	b.CallID = cut(len(b.CallID))
	b.UserAgent = cut(len(b.UserAgent))
	b.Source = cut(len(b.Source))
	b.Instance = cut(len(b.Instance))
	return b
}

// capLocked keeps at most MaxContacts bindings, dropping the soonest to expire.
func (r *Registrar) capLocked(live []hotdesk.Binding) []hotdesk.Binding {
	if len(live) <= r.opts.MaxContacts {
		return live
	}
	slices.SortFunc(live, func(a, b hotdesk.Binding) int { return b.Expires.Compare(a.Expires) })
	for _, b := range live[r.opts.MaxContacts:] {
		r.markDeleteLocked(b)
	}
	return live[:r.opts.MaxContacts]
}

// transitionLocked audits and reports a device going from no binding to some
// (whose first binding is then stored before the 200) or back to none.
func (r *Registrar) transitionLocked(device string, wasEmpty bool, live []hotdesk.Binding, base hotdesk.Binding, now time.Time) change {
	ch := change{current: slices.Clone(live)}
	switch {
	case wasEmpty && len(live) > 0:
		ch.event = hotdesk.KindRegistered
		ch.detail = registeredDetail(base)
		ch.wait = &stored{}
		r.waiters = append(r.waiters, ch.wait)
	case !wasEmpty && len(live) == 0:
		ch.event = hotdesk.KindUnregistered
		ch.detail = "unregistered by the device"
	default:
		return ch
	}
	r.audits = append(r.audits, &hotdesk.AuditEvent{Time: now, Kind: ch.event, Device: device,
		Source: base.Source, Detail: ch.detail})
	return ch
}

func registeredDetail(b hotdesk.Binding) string {
	d := "transport " + b.Transport
	if b.UserAgent != "" {
		d += ", user agent " + b.UserAgent
	}
	return d
}

// stored is a first binding's wait for its group commit: done once by
// the flush that wrote it (or failed to), or by SyncTimeout, whichever
// comes first; then is called once with the outcome.
type stored struct {
	mu   sync.Mutex
	done bool
	err  error
	then func(error)
}

// complete ends the wait with err; only the first call counts.
func (s *stored) complete(err error) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.done, s.err = true, err
	f := s.then
	s.mu.Unlock()
	if f != nil {
		f(err)
	}
}

// onDone calls f once the wait is over (at once when it is).
func (s *stored) onDone(f func(error)) {
	s.mu.Lock()
	if s.done {
		err := s.err
		s.mu.Unlock()
		f(err)
		return
	}
	s.then = f
	s.mu.Unlock()
}

// waitStored blocks until the next group commit stored the binding.
func (r *Registrar) waitStored(wait *stored) error {
	ch := make(chan error, 1)
	wait.onDone(func(err error) { ch <- err })
	r.kickFlush()
	t := time.NewTimer(r.opts.SyncTimeout)
	defer t.Stop()
	select {
	case err := <-ch:
		return err
	case <-t.C:
		wait.complete(r.errNotStored())
		return <-ch
	}
}

// afterStored calls finish once the next group commit stored the
// binding (or SyncTimeout passed), on a worker: not in the flush's
// goroutine, which would answer a burst's first registrations one by one.
func (r *Registrar) afterStored(wait *stored, finish func(error)) {
	t := time.AfterFunc(r.opts.SyncTimeout, func() { wait.complete(r.errNotStored()) })
	wait.onDone(func(err error) {
		t.Stop()
		if !r.secrets.pool.submit("", func(context.Context) { finish(err) }) {
			go finish(err)
		}
	})
	r.kickFlush()
}

func (r *Registrar) errNotStored() error {
	return fmt.Errorf("binding not stored within %s", r.opts.SyncTimeout)
}

// kickFlush asks Run for a group commit now.
func (r *Registrar) kickFlush() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// transportName is a binding's transport, lower case, without an
// allocation per REGISTER for the usual ones.
func transportName(t string) string {
	switch t {
	case "UDP", "udp":
		return "udp"
	case "TCP", "tcp":
		return "tcp"
	case "TLS", "tls":
		return "tls"
	}
	return strings.ToLower(t)
}
