package b2bua

import (
	"context"
	"encoding/xml"
	"fmt"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// emergency takes an emergency call to the trunk, whoever (or nobody) is
// logged in and whatever their permission: with the user's caller ID or
// else the device's emergency callback number, and the desk's location as
// PIDF-LO by value (RFC 6442). Every emergency call is audited; with no
// trunk it is refused with 503 and logged as an error, never dropped
// silently.
func (b *B2BUA) emergency(req *sip.Request, tx sip.ServerTransaction, dev *hotdesk.Device, user *hotdesk.User, number string, st hotdesk.Settings) {
	// The device as stored now: an admin may have moved the desk since the
	// phone authenticated.
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	if fresh, err := b.o.Store.FindDevice(ctx, dev.ID); err == nil {
		dev = fresh
	} else {
		b.log.Error("b2bua: emergency call: reading the device failed, using what the phone authenticated as", "device", dev.ID, "err", err)
	}
	cancel()
	callback := dev.EmergencyCallback
	name := dev.Label
	caller := party{Device: dev.ID}
	if user != nil {
		if user.CallerID != "" {
			callback = user.CallerID
		}
		name = user.Name
		caller.Ext, caller.Name = user.Extension, user.Name
	}
	if callback == "" {
		callback = dev.ID
	}
	caller.Number = callback
	tr := st.Trunk
	detail := fmt.Sprintf("dialled %s, callback %s, location %s", number, callback, locationText(dev.Location))
	if !tr.Enabled || tr.Proxy == "" {
		b.log.Error("b2bua: EMERGENCY CALL CANNOT GO OUT: no trunk configured", "device", dev.ID, "extension", caller.Ext,
			"number", number, "callback", callback)
		b.auditEmergency(dev.ID, caller.Ext, req.Source(), detail+"; refused 503: no trunk")
		signaling.Respond(tx, req, sip.StatusServiceUnavailable, b.log)
		return
	}
	b.log.Warn("b2bua: emergency call", "device", dev.ID, "extension", caller.Ext, "number", number, "callback", callback)
	b.auditEmergency(dev.ID, caller.Ext, req.Source(), detail)
	out := b.trunkInvite(req, tr, identity{name: name, user: callback}, number)
	cid := uuid.NewString() + "@" + b.domain()
	body, ctype := emergencyBody(req, PIDFLO(dev.ID+"@"+b.domain(), dev.Location, b.o.Now()), cid)
	out.RemoveHeader("Content-Type")
	out.AppendHeader(sip.NewHeader("Content-Type", ctype))
	out.SetBody(keysFor(body, out.Transport()))
	out.AppendHeader(sip.NewHeader("Geolocation", "<cid:"+cid+">"))
	out.AppendHeader(sip.NewHeader("Geolocation-Routing", "no"))
	udp := b.emergencyTransport(out)
	c := b.newCall(req, caller, party{}, number)
	c.emerg = true
	c.ring = MaxOutboundRing
	c.addLeg("", out, tr.Username, tr.Password).udp = udp
	c.bridge(req, tx)
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
