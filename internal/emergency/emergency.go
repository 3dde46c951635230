// Package emergency is what happens around an emergency call besides the
// call itself (issue 16): where the caller is (the site of the desk, or of
// the network the phone is on when it has moved), the on-site alert
// (alert extensions called and read the desk, floor, room, extension and
// callback until someone presses 1; the emergency_call event for the
// console banner, webhooks and SSE; escalation when nobody acknowledges),
// the callback window after the call, and the record every emergency or
// test call leaves.
//
// Nothing here may delay or fail the call: the B2BUA sends the INVITE
// first and then hands the call to Started, which works in its own
// goroutine, best effort, retried and audited.
package emergency

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/follow"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
)

// Store is the part of hotdesk.Store the Service uses.
type Store interface {
	SiteOfDevice(ctx context.Context, device string) (*hotdesk.Site, error)
	ListSites(ctx context.Context) ([]*hotdesk.Site, error)
	CreateEmergencyCall(ctx context.Context, c *hotdesk.EmergencyCall) error
	FindEmergencyCalls(ctx context.Context, f hotdesk.EmergencyCallFilter) ([]*hotdesk.EmergencyCall, error)
	AckEmergencyCall(ctx context.Context, id int64, by, via string, at time.Time) (*hotdesk.EmergencyCall, bool, error)
	AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error
}

// Caller places alert calls (the B2BUA).
type Caller interface {
	// Alert calls ext, reads say until someone presses 1 (true), plays
	// thanks and hangs up; it hangs up when ctx is done.
	Alert(ctx context.Context, ext string, say, thanks []int16) (bool, error)
}

// Defaults.
const (
	DefaultCallbackWindow = 60 * time.Minute
	DefaultEscalate       = 3 * time.Minute
	// MaxAlert bounds how long an unacknowledged alert keeps calling.
	MaxAlert = 30 * time.Minute
	// storeTimeout bounds each store operation; lookups made before the
	// INVITE goes out get locateTimeout.
	storeTimeout  = 5 * time.Second
	locateTimeout = time.Second
)

// Options configures a Service. Store and Settings are required.
type Options struct {
	Store    Store
	Bus      *events.Bus // nil: events are audited only
	Settings func(ctx context.Context) hotdesk.Settings
	Prompts  func(lang string) (*prompts.Set, error) // nil: no alert calls
	// Caller places alert calls; a func so the B2BUA, built after the
	// Service, can be named. Nil or returning nil: no alert calls.
	Caller func() Caller
	Logger *slog.Logger
	Now    hotdesk.Clock
	// Mail queues one alert email (to, subject, plain-text body), e.g. in
	// the voicemail work's mail outbox, which retries; nil: no alert
	// emails. It is called once per Settings.EmergencyAlerts.AlertEmails
	// address.
	Mail func(ctx context.Context, to, subject, body string) error
	// EscalateAfter, when set, replaces the settings' escalate_minutes
	// (tests).
	EscalateAfter time.Duration
	// Retry is the pause between alert calls to an extension that did not
	// acknowledge (default 10 s); tests shorten it.
	Retry time.Duration
}

// Service runs the alerts. Safe for concurrent use.
type Service struct {
	o   Options
	log *slog.Logger

	mu     sync.Mutex
	active map[int64]context.CancelFunc // alerts running, by call record id
	moved  map[string]string            // device → network site it was flagged on (notified once)
	sites  siteCache                    // for MovedAt
	wg     sync.WaitGroup
	quit   chan struct{}
	once   sync.Once
}

// New returns a Service. It does no I/O.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retry <= 0 {
		o.Retry = 10 * time.Second
	}
	return &Service{o: o, log: o.Logger, active: map[int64]context.CancelFunc{}, moved: map[string]string{}, quit: make(chan struct{})}
}

// Place is where an emergency call comes from and how it goes out.
type Place struct {
	Site     *hotdesk.Site    // whose trunk and callback apply; nil: none
	Location hotdesk.Location // the civic address to send
	Moved    bool             // the phone is not on its site's networks
	Warning  string           // for the PIDF-LO note, the alert and the audit trail
}

// Locate finds where dev, calling from source (ip:port), is: its site's
// address refined by the desk's own fields; when the phone is on a network
// of another site, that site's address; when it is on no known network
// though its site lists some, the desk's address with a warning. A store
// error gives the desk's address (the call must not wait or fail).
func (s *Service) Locate(ctx context.Context, dev *hotdesk.Device, source string) Place {
	ctx, cancel := context.WithTimeout(ctx, locateTimeout)
	defer cancel()
	home, err := s.o.Store.SiteOfDevice(ctx, dev.ID)
	if err != nil && hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		s.log.Error("emergency: site of the calling phone unknown, using the desk's address", "device", dev.ID, "err", err)
		return Place{Location: dev.Location}
	}
	sites, err := s.o.Store.ListSites(ctx)
	if err != nil {
		s.log.Error("emergency: sites unknown, using the desk's address", "device", dev.ID, "err", err)
		sites = nil
	}
	return place(dev, home, sites, source)
}

// place is Locate's rule, on what was read.
func place(dev *hotdesk.Device, home *hotdesk.Site, sites []*hotdesk.Site, source string) Place {
	at := SiteOfNetwork(sites, source)
	switch {
	case home == nil && at == nil:
		return Place{Location: dev.Location}
	case home == nil:
		return Place{Site: at, Location: merge(at.Location, dev.Location)}
	case !Moved(home, source):
		return Place{Site: home, Location: merge(home.Location, dev.Location)}
	case at != nil:
		return Place{Site: at, Location: at.Location, Moved: true,
			Warning: fmt.Sprintf("phone %s of site %s is on the network of site %s: that site's address was sent", dev.ID, home.Name, at.Name)}
	}
	return Place{Site: home, Location: merge(home.Location, dev.Location), Moved: true,
		Warning: fmt.Sprintf("LOCATION NOT VERIFIED: phone %s of site %s calls from %s, on none of its networks; the configured address was sent", dev.ID, home.Name, hostOf(source))}
}

// merge is the desk's address within its site: the site's fields where
// it has them (the building's civic address is the site's), the desk's
// for the rest, and the desk's floor, room and seat over the site's.
func merge(site, desk hotdesk.Location) hotdesk.Location {
	out := desk
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&out.Text, site.Text}, {&out.Country, site.Country}, {&out.A1, site.A1}, {&out.A3, site.A3},
		{&out.Street, site.Street}, {&out.HouseNo, site.HouseNo}, {&out.Postcode, site.Postcode}, {&out.Building, site.Building},
	} {
		if strings.TrimSpace(f.v) != "" {
			*f.dst = f.v
		}
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&out.Floor, site.Floor}, {&out.Room, site.Room}, {&out.Seat, site.Seat}} {
		if strings.TrimSpace(*f.dst) == "" {
			*f.dst = f.v
		}
	}
	return out
}

// hostOf is the IP of an ip:port (or the string itself).
func hostOf(source string) string {
	if h, _, err := net.SplitHostPort(source); err == nil {
		return h
	}
	return source
}

// inNetworks reports whether source's address is in one of nets.
func inNetworks(nets []string, source string) bool {
	ip := net.ParseIP(strings.Trim(hostOf(source), "[]"))
	if ip == nil {
		return false
	}
	for _, n := range nets {
		if _, p, err := net.ParseCIDR(n); err == nil && p.Contains(ip) {
			return true
		}
	}
	return false
}

// SiteOfNetwork returns the site whose networks hold source's address,
// nil if none.
func SiteOfNetwork(sites []*hotdesk.Site, source string) *hotdesk.Site {
	for _, st := range sites {
		if inNetworks(st.Networks, source) {
			return st
		}
	}
	return nil
}

// Moved reports whether a phone of site, seen at source, is off the
// site's networks. A site without networks never flags its phones.
func Moved(site *hotdesk.Site, source string) bool {
	return site != nil && len(site.Networks) > 0 && source != "" && !inNetworks(site.Networks, source)
}

// Started takes over an emergency (or test) call whose INVITE has gone
// out (or could not): the record, the audit row and emergency_call event
// (webhooks, SSE, console banner), the alert calls and their escalation.
// It returns at once.
func (s *Service) Started(c hotdesk.EmergencyCall) {
	select {
	case <-s.quit:
		s.log.Error("emergency: call after shutdown: no alert", "device", c.Device, "number", c.Number)
		return
	default:
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.handle(&c)
	}()
}

// handle records c and alerts until acknowledged, MaxAlert or shutdown.
func (s *Service) handle(c *hotdesk.EmergencyCall) {
	if c.Time.IsZero() {
		c.Time = s.o.Now()
	}
	// One try at the record before alerting (its id ties the
	// acknowledgement to it); when the store fails, the alerts go at once
	// and the record is retried beside them.
	rctx, rcancel := context.WithTimeout(context.Background(), locateTimeout)
	err := s.o.Store.CreateEmergencyCall(rctx, c)
	rcancel()
	rec := *c
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err != nil {
			s.log.Error("emergency: recording the call failed, alerting anyway", "device", rec.Device, "err", err)
			s.retry("record emergency call", func(ctx context.Context) error { return s.o.Store.CreateEmergencyCall(ctx, &rec) })
		}
		reason := ""
		if rec.Test {
			reason = "test"
		}
		s.audit(&hotdesk.AuditEvent{Time: rec.Time, Kind: hotdesk.KindEmergency, Extension: rec.Extension, Device: rec.Device,
			Reason: reason, Source: "pbx", Detail: Describe(&rec)})
		s.mail(&rec)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), MaxAlert)
	defer cancel()
	if c.ID != 0 {
		s.mu.Lock()
		s.active[c.ID] = cancel
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.active, c.ID)
			s.mu.Unlock()
		}()
	}
	go func() {
		select {
		case <-s.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	s.alert(ctx, cancel, c)
}

// mail queues the alert email to every AlertEmails address (Options.Mail);
// a failure is audited and the others still go.
func (s *Service) mail(c *hotdesk.EmergencyCall) {
	if s.o.Mail == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	to := s.o.Settings(ctx).EmergencyAlerts.AlertEmails
	cancel()
	subject := fmt.Sprintf("EMERGENCY CALL %s from desk %s", c.Number, c.Device)
	if c.Test {
		subject = "Emergency TEST call from desk " + c.Device
	}
	body := Describe(c) + "\n\nAcknowledge it in the console (the banner on every page) or by pressing 1 on the alert call.\n"
	for _, addr := range to {
		var err error
		s.retry("queue alert email", func(ctx context.Context) error { err = s.o.Mail(ctx, addr, subject, body); return err })
		if err != nil {
			s.audit(&hotdesk.AuditEvent{Kind: hotdesk.KindEmergencyAlertFailed, Device: c.Device, Source: "pbx",
				Detail: fmt.Sprintf("%s%d: alert email to %s not queued: %v", hotdesk.EmergencyCallPrefix, c.ID, addr, err)})
		}
	}
}

// alert calls the alert extensions, and after the escalation time the
// escalation extensions too, until one acknowledges or ctx is done.
func (s *Service) alert(ctx context.Context, done context.CancelFunc, c *hotdesk.EmergencyCall) {
	st := s.o.Settings(ctx).EmergencyAlerts
	var caller Caller
	if s.o.Caller != nil {
		caller = s.o.Caller()
	}
	say, thanks := s.message(ctx, c)
	if caller == nil || say == nil {
		if len(st.AlertExtensions)+len(st.EscalateExtensions) > 0 {
			s.audit(&hotdesk.AuditEvent{Kind: hotdesk.KindEmergencyAlertFailed, Device: c.Device, Extension: c.Extension,
				Source: "pbx", Detail: fmt.Sprintf("%s%d: no alert calls (no prompts or no SIP)", hotdesk.EmergencyCallPrefix, c.ID)})
		}
		<-ctx.Done()
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	call := func(exts []string) {
		for _, ext := range exts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.alertLoop(ctx, done, c, ext, caller, say, thanks)
			}()
		}
	}
	call(st.AlertExtensions)
	esc := time.Duration(st.EscalateMinutes) * time.Minute
	if s.o.EscalateAfter > 0 {
		esc = s.o.EscalateAfter
	}
	if esc <= 0 {
		esc = DefaultEscalate
	}
	if len(st.EscalateExtensions) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(esc):
			s.audit(&hotdesk.AuditEvent{Kind: hotdesk.KindEmergency, Device: c.Device, Extension: c.Extension, Reason: "escalated",
				Source: "pbx", Detail: fmt.Sprintf("%s%d: not acknowledged after %v, alerting %s too", hotdesk.EmergencyCallPrefix,
					c.ID, esc, strings.Join(st.EscalateExtensions, ", "))})
			call(st.EscalateExtensions)
		}
	}
	<-ctx.Done()
}

// alertLoop calls ext until it acknowledges or ctx is done; the first
// failure is audited.
func (s *Service) alertLoop(ctx context.Context, done context.CancelFunc, c *hotdesk.EmergencyCall, ext string, caller Caller, say, thanks []int16) {
	failed := false
	for ctx.Err() == nil {
		acked, err := caller.Alert(ctx, ext, say, thanks)
		if acked {
			s.Ack(c.ID, ext, "phone")
			done()
			return
		}
		if err != nil && ctx.Err() == nil && !failed {
			failed = true
			s.audit(&hotdesk.AuditEvent{Kind: hotdesk.KindEmergencyAlertFailed, Device: c.Device, Extension: ext, Source: "pbx",
				Detail: fmt.Sprintf("%s%d: alert call to %s failed, retrying every %v: %v", hotdesk.EmergencyCallPrefix, c.ID, ext, s.o.Retry, err)})
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.o.Retry):
		}
	}
}

// Ack records an acknowledgement by a phone (by is the extension) and
// stops the alert. Acknowledgements from the console and the API go
// through the admin service; Run sees their event and stops the alert.
func (s *Service) Ack(id int64, by, via string) {
	if id == 0 {
		return
	}
	var first bool
	var c *hotdesk.EmergencyCall
	at := s.o.Now()
	s.retry("acknowledge emergency call", func(ctx context.Context) (err error) {
		c, first, err = s.o.Store.AckEmergencyCall(ctx, id, by, via, at)
		return err
	})
	if first {
		s.audit(&hotdesk.AuditEvent{Time: at, Kind: hotdesk.KindEmergencyAck, Device: c.Device, Extension: c.Extension, Reason: via,
			Source: via + ":" + by, Detail: hotdesk.AckDetail(id, by, via)})
	}
	s.stop(id)
}

// stop ends the alert of call id, if running.
func (s *Service) stop(id int64) {
	s.mu.Lock()
	cancel := s.active[id]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// retry runs op up to three times (store errors are often brief).
func (s *Service) retry(what string, op func(ctx context.Context) error) {
	var err error
	for attempt := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err = op(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.quit:
			attempt = 3
		case <-time.After(time.Duration(attempt+1) * 300 * time.Millisecond):
		}
	}
	s.log.Error("emergency: "+what+" failed", "err", err)
}

// audit writes e (retried) and publishes it.
func (s *Service) audit(e *hotdesk.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = s.o.Now()
	}
	s.retry("audit "+e.Kind, func(ctx context.Context) error { return s.o.Store.AppendAudit(ctx, e) })
	if s.o.Bus != nil {
		s.o.Bus.Publish(events.Event{Time: e.Time, Kind: e.Kind, Extension: e.Extension, Device: e.Device, Reason: e.Reason,
			Source: e.Source, Detail: e.Detail})
	}
}

// Describe is the one-line account of an emergency call for the audit
// trail, webhooks and the alert email.
func Describe(c *hotdesk.EmergencyCall) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s%d: ", hotdesk.EmergencyCallPrefix, c.ID)
	if c.Test {
		sb.WriteString("TEST (no PSAP called), ")
	}
	fmt.Fprintf(&sb, "dialled %s from desk %s", c.Number, c.Device)
	if c.Extension != "" {
		fmt.Fprintf(&sb, ", user %s extension %s", c.Name, c.Extension)
	} else if c.Name != "" {
		fmt.Fprintf(&sb, " (%s), nobody logged in", c.Name)
	}
	fmt.Fprintf(&sb, ", callback %s, location %s", c.Callback, LocationText(c.Location))
	if c.Trunk != "" {
		fmt.Fprintf(&sb, ", trunk %s", c.Trunk)
	}
	if c.Warning != "" {
		fmt.Fprintf(&sb, "; WARNING: %s", c.Warning)
	}
	return sb.String()
}

// LocationText is a one-line form of loc.
func LocationText(loc hotdesk.Location) string {
	var parts []string
	for _, v := range []string{strings.TrimSpace(loc.Street + " " + loc.HouseNo), loc.Postcode, loc.A3, loc.Country, loc.Building,
		label("floor", loc.Floor), label("room", loc.Room), label("desk", loc.Seat), loc.Text} {
		if v = strings.TrimSpace(v); v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, ", ")
}

func label(name, v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	return name + " " + v
}

// message composes the alert from prompts: "emergency call from desk D,
// floor F, room R, extension E, callback number C[, location not
// verified], press 1 to acknowledge". Nil when there are no prompts.
func (s *Service) message(ctx context.Context, c *hotdesk.EmergencyCall) (say, thanks []int16) {
	if s.o.Prompts == nil {
		return nil, nil
	}
	lang := s.o.Settings(ctx).Lang
	set, err := s.o.Prompts(lang)
	if err != nil && lang != "en" {
		set, err = s.o.Prompts("en")
	}
	if err != nil {
		s.log.Error("emergency: no prompts for the alert", "err", err)
		return nil, nil
	}
	return set.Say(MessageNames(c)...), set.Say(prompts.Acknowledged)
}

// MessageNames are the prompts an alert for c reads out.
func MessageNames(c *hotdesk.EmergencyCall) []string {
	names := []string{prompts.EmergencyAlert}
	if c.Test {
		names = []string{prompts.EmergencyTestAlert}
	}
	desk := c.Location.Seat
	if prompts.NumberNames(desk) == nil {
		desk = c.Device
	}
	names = append(names, prompts.FromDesk)
	names = append(names, prompts.NumberNames(desk)...)
	for _, f := range []struct{ word, v string }{{prompts.Floor, c.Location.Floor}, {prompts.Room, c.Location.Room}, {prompts.Extension, c.Extension}} {
		if ds := prompts.NumberNames(f.v); ds != nil {
			names = append(append(names, f.word), ds...)
		}
	}
	if ds := prompts.NumberNames(c.Callback); ds != nil {
		names = append(append(names, prompts.CallbackNumber), ds...)
	}
	if c.Warning != "" {
		names = append(names, prompts.LocationUnverified)
	}
	return append(names, prompts.PressOneToAck)
}

// CallbackFor returns the latest real emergency call that sent number as
// its callback within the callback window, or nil: a call to that number
// then rings the desk that made the call and the user.
func (s *Service) CallbackFor(ctx context.Context, number string) *hotdesk.EmergencyCall {
	if number == "" {
		return nil
	}
	window := time.Duration(s.o.Settings(ctx).EmergencyAlerts.CallbackMinutes) * time.Minute
	if window <= 0 {
		window = DefaultCallbackWindow
	}
	real := false
	for _, n := range []string{number, strings.TrimPrefix(number, "+"), "+" + strings.TrimPrefix(number, "+")} {
		cs, err := s.o.Store.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Callback: n, Since: s.o.Now().Add(-window), Test: &real, Limit: 1})
		if err != nil {
			s.log.Warn("emergency: callback window lookup", "number", number, "err", err)
			return nil
		}
		if len(cs) > 0 {
			return cs[0]
		}
	}
	return nil
}

// InWindow reports whether device made a real emergency call within the
// callback window (its auto-logout waits; the desks page shows it).
func (s *Service) InWindow(ctx context.Context, device string) (until time.Time, ok bool) {
	window := time.Duration(s.o.Settings(ctx).EmergencyAlerts.CallbackMinutes) * time.Minute
	if window <= 0 {
		window = DefaultCallbackWindow
	}
	real := false
	cs, err := s.o.Store.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Device: device, Since: s.o.Now().Add(-window), Test: &real, Limit: 1})
	if err != nil || len(cs) == 0 {
		return time.Time{}, false
	}
	return cs[0].Time.Add(window), true
}

// Run follows the event bus until ctx is done: acknowledgements made in
// the console or API stop the alert calls, and a phone registering from a
// network not its site's is audited (phone_moved) once. On return every
// alert has stopped.
func (s *Service) Run(ctx context.Context) error {
	defer func() {
		s.once.Do(func() { close(s.quit) })
		s.wg.Wait()
	}()
	if s.o.Bus == nil {
		<-ctx.Done()
		return nil
	}
	// The kinds it acts on only: a call's events do not wake it (issue 18).
	evs, stop := s.o.Bus.SubscribeKinds(256, func(kind string) bool {
		return siteChange(kind) || kind == hotdesk.KindEmergencyAck || kind == hotdesk.KindRegistered
	})
	defer stop()
	s.sites.follow(true)
	defer s.sites.follow(false)
	follow.Each(ctx, evs, func(e events.Event) {
		s.sites.event(e)
		switch e.Kind {
		case hotdesk.KindEmergencyAck:
			if id, ok := hotdesk.AckedCallID(e.Detail); ok {
				s.stop(id)
			}
		case hotdesk.KindRegistered:
			if !e.Remote() {
				s.checkMoved(ctx, e.Device, e.Source)
			}
		}
	})
	return nil
}

// checkMoved audits a phone registering from a network that is not its
// site's, once per device and network site; a phone back home clears it.
func (s *Service) checkMoved(ctx context.Context, device, source string) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	home, err := s.homeSite(ctx, device) // the cache: this runs in the loop that keeps it
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.Warn("emergency: site of registering phone", "device", device, "err", err)
		}
		return
	}
	if !Moved(home, source) {
		s.mu.Lock()
		delete(s.moved, device)
		s.mu.Unlock()
		return
	}
	sites, err := s.o.Store.ListSites(ctx)
	if err != nil {
		s.log.Warn("emergency: sites", "err", err)
	}
	where := "no known network"
	if at := SiteOfNetwork(sites, source); at != nil {
		where = "the network of site " + at.Name
	}
	s.mu.Lock()
	seen := s.moved[device] == where
	s.moved[device] = where
	s.mu.Unlock()
	if seen {
		return
	}
	s.log.Warn("emergency: phone moved?", "device", device, "site", home.Name, "source", source, "on", where)
	s.audit(&hotdesk.AuditEvent{Kind: hotdesk.KindPhoneMoved, Device: device, Source: source,
		Detail: fmt.Sprintf("phone of site %s registered from %s, on %s: check its location", home.Name, hostOf(source), where)})
}

// MovedAt reports whether dev, seen at source, is off its site's
// networks (for the warning a user hears on logging in there). Every login
// asks before its 200 OK, so it takes the sites from a cache (siteCache)
// and needs only the phone's own site, not the others' networks; on a
// store error it says no, as Locate would.
func (s *Service) MovedAt(ctx context.Context, dev *hotdesk.Device, source string) bool {
	ctx, cancel := context.WithTimeout(ctx, locateTimeout)
	defer cancel()
	home, err := s.homeSite(ctx, dev.ID)
	if err != nil {
		s.log.Error("emergency: site of the phone logging in unknown", "device", dev.ID, "err", err)
		return false
	}
	return Moved(home, source)
}
