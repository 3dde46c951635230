package b2bua

import (
	"context"
	"encoding/xml"
	"fmt"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/emergency"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Emergency is what internal/emergency does around an emergency call.
type Emergency interface {
	// Locate returns the caller's site, address and any warning (phone
	// moved); it answers within a second, from the desk's own address
	// when the store fails.
	Locate(ctx context.Context, dev *hotdesk.Device, source string) emergency.Place
	// Started takes over the call once its INVITE has gone out (record,
	// audit, event, on-site alerts); it returns at once.
	Started(c hotdesk.EmergencyCall)
	// CallbackFor returns the emergency call that sent number as its
	// callback within the callback window, or nil.
	CallbackFor(ctx context.Context, number string) *hotdesk.EmergencyCall
}

// emergencyLookup bounds the store reads made before an emergency INVITE
// goes out: a slow database must not hold the call up.
const emergencyLookup = time.Second

// isTestNumber reports whether number is the emergency test number.
func isTestNumber(number string, st hotdesk.Settings) bool {
	t := st.EmergencyAlerts.TestNumber
	return t != "" && number == t
}

// emergency takes an emergency call to the trunk, whoever (or nobody) is
// logged in and whatever their permission: with the user's caller ID or
// else the desk's, else the site's emergency callback number, through the
// trunk of the site the phone is at (issue 16), and the location as
// PIDF-LO by value (RFC 6442) with a note when it is not verified. The
// INVITE goes out first; the record, audit row and on-site alerts follow
// (Options.Emergency). With no trunk the call is refused with 503, logged
// as an error and alerted on site, never dropped silently. The test number
// runs the same path up to the trunk: the caller hears that it was a test.
func (b *B2BUA) emergency(req *sip.Request, tx sip.ServerTransaction, dev *hotdesk.Device, user *hotdesk.User, number string, st hotdesk.Settings) {
	// The device as stored now: an admin may have moved the desk since the
	// phone authenticated.
	ctx, cancel := context.WithTimeout(context.Background(), emergencyLookup)
	if fresh, err := b.o.Store.FindDevice(ctx, dev.ID); err == nil {
		dev = fresh
	} else {
		b.log.Error("b2bua: emergency call: reading the device failed, using what the phone authenticated as", "device", dev.ID, "err", err)
	}
	place := emergency.Place{Location: dev.Location}
	if b.o.Emergency != nil {
		place = b.o.Emergency.Locate(ctx, dev, req.Source())
	}
	cancel()
	rec := hotdesk.EmergencyCall{Time: b.o.Now(), Device: dev.ID, Name: dev.Label, Number: number, Location: place.Location,
		Warning: place.Warning, Test: isTestNumber(number, st)}
	callback := dev.EmergencyCallback
	caller := party{Device: dev.ID}
	if user != nil {
		if user.CallerID != "" {
			callback = user.CallerID
		}
		rec.Name, rec.Extension = user.Name, user.Extension
		caller.Ext, caller.Name = user.Extension, user.Name
	}
	if place.Site != nil {
		rec.Site, rec.Trunk = place.Site.ID, place.Site.Trunk
		if callback == "" {
			callback = place.Site.Callback
		}
	}
	if callback == "" {
		callback = dev.ID
	}
	caller.Number, rec.Callback = callback, callback
	tr, _ := st.TrunkNamed(rec.Trunk)
	log := b.log.With("device", dev.ID, "extension", caller.Ext, "number", number, "callback", callback, "trunk", rec.Trunk)
	if rec.Test {
		log.Info("b2bua: emergency test call: alerts without a PSAP")
		b.emergencyStarted(rec, req.Source())
		b.announce(req, tx, promptEmergencyTest, st.Lang, sip.StatusTemporarilyUnavailable)
		return
	}
	if !tr.Enabled || tr.Proxy == "" {
		log.Error("b2bua: EMERGENCY CALL CANNOT GO OUT: no trunk configured")
		rec.Warning = strings.TrimPrefix(rec.Warning+"; CALL REFUSED 503: no trunk", "; ")
		b.emergencyStarted(rec, req.Source())
		signaling.Respond(tx, req, sip.StatusServiceUnavailable, b.log)
		return
	}
	log.Warn("b2bua: emergency call", "warning", place.Warning)
	out := b.trunkInvite(req, tr, identity{name: rec.Name, user: callback}, number)
	cid := uuid.NewString() + "@" + b.domain()
	note := ""
	if place.Warning != "" {
		note = "WARNING: " + place.Warning
	}
	body, ctype := emergencyBody(req, PIDFLONote(dev.ID+"@"+b.domain(), place.Location, b.o.Now(), note), cid)
	out.RemoveHeader("Content-Type")
	out.AppendHeader(sip.NewHeader("Content-Type", ctype))
	out.SetBody(keysFor(body, out.Transport()))
	out.AppendHeader(sip.NewHeader("Geolocation", "<cid:"+cid+">"))
	out.AppendHeader(sip.NewHeader("Geolocation-Routing", "no"))
	udp := b.emergencyTransport(out)
	c := b.newCall(req, caller, party{}, number)
	c.emerg = true
	c.ring = MaxOutboundRing
	l := c.addLeg("", out, tr.Username, tr.Password)
	l.udp = udp
	l.sent = sync.OnceFunc(func() { b.emergencyStarted(rec, req.Source()) })
	c.bridge(req, tx)
}

// emergencyStarted hands the call to Options.Emergency, or without one
// writes the audit row itself.
func (b *B2BUA) emergencyStarted(rec hotdesk.EmergencyCall, source string) {
	if b.o.Emergency != nil {
		b.o.Emergency.Started(rec)
		return
	}
	detail := fmt.Sprintf("dialled %s, callback %s, location %s", rec.Number, rec.Callback, locationText(rec.Location))
	if rec.Warning != "" {
		detail += "; " + rec.Warning
	}
	b.auditEmergency(rec.Device, rec.Extension, source, detail)
}

// auditEmergency writes the audit row and publishes it.
func (b *B2BUA) auditEmergency(device, ext, source, detail string) {
	e := &hotdesk.AuditEvent{Time: b.o.Now(), Kind: hotdesk.KindEmergency, Extension: ext, Device: device, Source: source, Detail: detail}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	if err := b.o.Store.AppendAudit(ctx, e); err != nil {
		b.log.Error("b2bua: audit emergency call", "device", device, "err", err)
	}
	b.publish(events.Event{Time: e.Time, Kind: hotdesk.KindEmergency, Extension: ext, Device: device, Source: source, Detail: detail})
}

// emergencyBody is the multipart/mixed body of an emergency INVITE: the
// caller's SDP (unchanged) and the PIDF-LO, referenced by Content-ID.
func emergencyBody(a *sip.Request, pidf []byte, cid string) ([]byte, string) {
	const boundary = "hotdesk-pidf-lo-boundary"
	var sb strings.Builder
	if sdp := a.Body(); len(sdp) > 0 {
		ct := "application/sdp"
		if h := a.ContentType(); h != nil {
			ct = h.Value()
		}
		fmt.Fprintf(&sb, "--%s\r\nContent-Type: %s\r\n\r\n%s", boundary, ct, sdp)
		if !strings.HasSuffix(string(sdp), "\r\n") {
			sb.WriteString("\r\n")
		}
	}
	fmt.Fprintf(&sb, "--%s\r\nContent-Type: application/pidf+xml\r\nContent-ID: <%s>\r\n\r\n%s\r\n--%s--\r\n", boundary, cid, pidf, boundary)
	return []byte(sb.String()), "multipart/mixed;boundary=" + boundary
}

// PIDFLO is a PIDF-LO document (RFC 4119, RFC 5491 device form) carrying
// loc as an RFC 5139 civic address. Elements follow the schema's order;
// empty ones are left out; values are XML-escaped. It is compact (no
// indentation, only the namespaces used) so the INVITE stays small.
func PIDFLO(entity string, loc hotdesk.Location, at time.Time) []byte {
	return PIDFLONote(entity, loc, at, "")
}

// PIDFLONote is PIDFLO with a note on the device (RFC 4479 section 3.4,
// a pidf note) when not empty: the warning that the location is not
// verified.
func PIDFLONote(entity string, loc hotdesk.Location, at time.Time, note string) []byte {
	var sb strings.Builder
	esc := func(s string) string {
		var e strings.Builder
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	fmt.Fprintf(&sb, `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"`+
		` xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:%s">`, esc(entity))
	sb.WriteString(`<dm:device id="desk"><gp:geopriv><gp:location-info><ca:civicAddress>`)
	for _, f := range []struct{ name, value string }{
		{"country", loc.Country}, {"A1", loc.A1}, {"A3", loc.A3}, {"RD", loc.Street}, {"HNO", loc.HouseNo},
		{"LOC", loc.Text}, {"FLR", loc.Floor}, {"PC", loc.Postcode}, {"BLD", loc.Building}, {"ROOM", loc.Room}, {"SEAT", loc.Seat},
	} {
		if v := strings.TrimSpace(f.value); v != "" {
			fmt.Fprintf(&sb, "<ca:%s>%s</ca:%s>", f.name, esc(v), f.name)
		}
	}
	sb.WriteString(`</ca:civicAddress></gp:location-info><gp:usage-rules/><gp:method>Manual</gp:method></gp:geopriv>`)
	if note != "" {
		fmt.Fprintf(&sb, `<note xml:lang="en">%s</note>`, esc(note))
	}
	fmt.Fprintf(&sb, "<dm:timestamp>%s</dm:timestamp></dm:device></presence>", at.UTC().Format(time.RFC3339))
	return []byte(sb.String())
}

// locationText is a one-line form of loc for the audit trail.
func locationText(loc hotdesk.Location) string {
	var parts []string
	for _, v := range []string{loc.Text, strings.TrimSpace(loc.Street + " " + loc.HouseNo), loc.Postcode, loc.A3, loc.Country,
		loc.Building, loc.Floor, loc.Room, loc.Seat} {
		if v = strings.TrimSpace(v); v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, ", ")
}

// emergencyCallback rings, for a call to the callback number an emergency
// call sent within the callback window (the PSAP calling back), the desk
// phone that made the emergency call and the user who made it wherever
// they are now, and the number's owner when that is someone else: a
// logout or roam since does not lose the callback (issue 16).
func (b *B2BUA) emergencyCallback(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, rec *hotdesk.EmergencyCall,
	owner *hotdesk.User, did string, st hotdesk.Settings) {
	from := req.From()
	caller := party{Name: from.DisplayName, Number: TrunkNumber(from.Address.User, st)}
	if caller.Number == "" {
		caller.Number = "anonymous"
	}
	binds := uniqueBindings(b.o.Contacts(rec.Device))
	for i := range binds {
		binds[i].Device, binds[i].Node = rec.Device, "" // rung from here, as targets does
	}
	binds = append(binds, b.remoteTargets(ctx, rec.Device)...)
	callee := party{Ext: rec.Extension, Name: rec.Name, Number: rec.Extension, Device: rec.Device}
	for _, ext := range []string{rec.Extension, userExt(owner)} {
		if ext == "" {
			continue
		}
		_, more := b.targets(ctx, ext, "")
		binds = uniqueBindings(append(binds, more...))
		if callee.Ext == "" {
			callee = party{Ext: owner.Extension, Name: owner.Name, Number: owner.Extension, Device: rec.Device}
		}
	}
	b.log.Warn("b2bua: emergency callback within the window: ringing the desk and the user", "did", did, "device", rec.Device,
		"extension", rec.Extension, "emergency_call", rec.ID, "contacts", len(binds))
	c := b.newCall(req, caller, callee, did)
	c.emerg = true
	c.ring = MaxOutboundRing
	for _, bind := range binds {
		var out *sip.Request
		var err error
		if bind.Node != "" {
			out, err = b.nodeInvite(req, bind, caller, callee.Ext, c.ring)
		} else {
			out, err = b.deviceInvite(req, bind, caller, callee.Ext)
		}
		if err != nil {
			c.log.Warn("b2bua: unusable contact", "device", bind.Device, "err", err)
			continue
		}
		c.addLeg(bind.Device, out, "", "")
	}
	c.bridge(req, tx)
}

func userExt(u *hotdesk.User) string {
	if u == nil {
		return ""
	}
	return u.Extension
}
