package b2bua

import (
	"context"
	"fmt"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"log/slog"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// Prompt names of the announcements.
const (
	promptNeutral    = "neutral_phone"
	promptNotAllowed = "not_allowed"
	// promptEmergencyTest tells the caller of the test number that no
	// PSAP was called and the on-site alert went out.
	promptEmergencyTest = "emergency_test"
)

// HandleInvite routes an authenticated initial INVITE from dev whose
// number is not a feature code (SPEC section 4: emergency, extension,
// trunk; neutral phones only emergency). It blocks until the call is over.
func (b *B2BUA) HandleInvite(req *sip.Request, tx sip.ServerTransaction, dev *hotdesk.Device) {
	if tooManyHops(req, tx, b.log) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	st := b.o.Settings(ctx)
	number := requestNumber(req.Recipient)
	ext := "" // the callee asked for with the caller
	if IsExtensionLike(number, st) && !IsEmergency(number, st) && !isTestNumber(number, st) {
		ext = number
	}
	user, callee, err := b.parties(ctx, dev, ext)
	if err != nil {
		b.log.Error("b2bua: who is at the device", "device", dev.ID, "err", err)
		if IsEmergency(number, st) || isTestNumber(number, st) {
			user = nil // an emergency call goes out even when the database is down
		} else {
			signaling.Respond(tx, req, sip.StatusServiceUnavailable, b.log)
			return
		}
	}
	caller := party{Device: dev.ID, Number: dev.ID}
	if user != nil {
		caller = party{Ext: user.Extension, Name: user.Name, Number: user.Extension, Device: dev.ID}
	}
	log := withLazy(b.log, "device", dev.ID, "extension", caller.Ext, "to", number)
	switch {
	case number == "":
		signaling.Respond(tx, req, sip.StatusNotFound, b.log)
	case IsEmergency(number, st) || isTestNumber(number, st):
		b.emergency(req, tx, dev, user, number, st)
	case srtpRefused(req, dev):
		log.Info("b2bua: device requires SRTP: the call is not over TLS or offers no supported key")
		signaling.Respond(tx, req, sip.StatusNotAcceptableHere, b.log)
	case user == nil:
		log.Info("b2bua: neutral phone may only dial login codes and emergency numbers")
		b.refuse(req, tx, promptNeutral, st.Lang)
	case IsExtensionLike(number, st):
		if callee == nil {
			signaling.Respond(tx, req, sip.StatusNotFound, b.log)
			return
		}
		b.callUser(ctx, req, tx, caller, callee, number)
	default:
		if e, ok := E164(number, st); ok {
			if u := b.userByDID(ctx, e); u != nil {
				b.callUser(ctx, req, tx, caller, &called{User: u}, number) // our own DID stays inside
				return
			}
		}
		if scope := Scope(number, st); !Allowed(user.Outbound, scope) {
			log.Info("b2bua: outbound call not allowed", "needs", scope, "has", user.Outbound)
			b.refuse(req, tx, promptNotAllowed, st.Lang)
			return
		}
		b.callTrunk(req, tx, caller, user, number, st)
	}
}

// called is the user called and, when read with the caller
// (InviteStore), where they are: the device they are logged in on and
// their personal phones.
type called struct {
	*hotdesk.User
	known    bool // at and personal were read
	at       string
	personal []string
}

// InviteStore is implemented by stores that read everything routing a
// call from a phone to an extension needs in one statement
// (internal/store/sqlstore): under call load each of the five lookups it
// replaces waited for one of the few read connections (issue 18).
type InviteStore interface {
	InviteLookup(ctx context.Context, callerDevice, owner, callee string) (hotdesk.InviteParties, error)
}

// parties reads the user dev's calls belong to (userAt) and, when ext is
// not "", the user with that extension and where they are (nil when there
// is none). An error means the caller's user is unknown; a failure to read
// the callee then counts as one too.
//
// With an InviteStore the parties come from the cache (parties.go) when it
// has them, and what it lacks is read in one InviteLookup and kept.
func (b *B2BUA) parties(ctx context.Context, dev *hotdesk.Device, ext string) (*hotdesk.User, *called, error) {
	if s, ok := b.o.Store.(InviteStore); ok {
		now := b.o.Now()
		user, haveUser, c, haveCallee, gen := b.cache.get(dev, ext, now)
		if haveUser && (ext == "" || haveCallee) {
			return user, c, nil
		}
		device, owner, callee := dev.ID, "", ext
		if dev.Mode == hotdesk.ModePersonal {
			device, owner = "", dev.Owner
		}
		if haveUser {
			device, owner = "", ""
		}
		if haveCallee {
			callee = ""
		}
		b.cache.fetches.Add(1)
		inv, err := s.InviteLookup(ctx, device, owner, callee)
		if err != nil {
			return nil, nil, err
		}
		if !haveUser {
			user = inv.Caller
		}
		if !haveCallee && inv.Callee != nil {
			c = &called{User: inv.Callee, known: true, at: inv.CalleeAt, personal: inv.CalleePersonal}
		}
		b.cache.put(gen, dev, !haveUser, user, ext, c, now)
		return user, c, nil
	}
	user, err := b.userAt(ctx, dev)
	if err != nil || ext == "" {
		return user, nil, err
	}
	u, err := b.o.Store.FindUser(ctx, ext)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return user, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	return user, &called{User: u}, nil
}

// userAt is the user a device's calls belong to: the owner of a personal
// phone, the user logged in on a hot desk phone, nil for a neutral phone.
func (b *B2BUA) userAt(ctx context.Context, dev *hotdesk.Device) (*hotdesk.User, error) {
	if dev.Mode == hotdesk.ModePersonal {
		u, err := b.o.Store.FindUser(ctx, dev.Owner)
		if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
			return nil, nil
		}
		return u, err
	}
	u, err := b.o.Desk.UserAt(ctx, dev.ID)
	if err == desk.ErrNotLoggedIn {
		return nil, nil
	}
	return u, err
}

// userByDID finds the user owning an E.164 number, or nil.
func (b *B2BUA) userByDID(ctx context.Context, did string) *hotdesk.User {
	for _, cand := range []string{did, strings.TrimPrefix(did, "+")} {
		us, _, err := b.o.Store.FindUsers(ctx, hotdesk.UserFilter{DID: cand, Limit: 1})
		if err != nil {
			b.log.Warn("b2bua: find user by DID", "did", did, "err", err)
			return nil
		}
		if len(us) > 0 {
			return us[0]
		}
	}
	return nil
}

// callUser rings every contact of the device the callee is logged in on
// and of the callee's personal phones, in parallel.
func (b *B2BUA) callUser(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, caller party, callee *called, dialled string) {
	var at string
	var binds []hotdesk.Binding
	if callee.known {
		at, binds = callee.at, b.bindings(ctx, callee.at, callee.personal, caller.Device)
	} else {
		at, binds = b.targets(ctx, callee.Extension, caller.Device)
	}
	c := b.newCall(req, caller, party{Ext: callee.Extension, Name: callee.Name, Number: callee.Extension, Device: at}, dialled)
	if callee.Voicemail {
		c.mailbox = callee.Extension
	}
	c.ring = b.o.RingTimeout
	if callee.RingTimeout > 0 {
		c.ring = time.Duration(callee.RingTimeout) * time.Second
	}
	for _, bind := range binds {
		var out *sip.Request
		var err error
		if bind.Node != "" {
			out, err = b.nodeInvite(req, bind, caller, callee.Extension, c.ring)
		} else {
			out, err = b.deviceInvite(req, bind, caller, callee.Extension)
		}
		if err != nil {
			c.log.Warn("b2bua: unusable contact", "device", bind.Device, "err", err)
			continue
		}
		c.addLeg(bind.Device, out, "", "")
	}
	c.bridge(req, tx)
}

// targets returns the device the user is logged in on ("" if none) and
// the live contacts to ring: that device's and the user's personal
// phones', except the calling device's. Contacts held by this node come
// from the registrar; a phone registered with another node is one target
// per node (Node set), rung through that node.
func (b *B2BUA) targets(ctx context.Context, ext, except string) (string, []hotdesk.Binding) {
	at := ""
	if l, err := b.o.Store.LoginByUser(ctx, ext); err == nil {
		at = l.Device
	} else if hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		b.log.Warn("b2bua: login of callee", "extension", ext, "err", err)
	}
	personal, err := b.personalDevices(ctx, ext)
	if err != nil {
		b.log.Warn("b2bua: personal phones of callee", "extension", ext, "err", err)
	}
	return at, b.bindings(ctx, at, personal, except)
}

// bindings returns the live contacts of the device at ("" none) and the
// personal phones, except the calling device's (targets).
func (b *B2BUA) bindings(ctx context.Context, at string, personal []string, except string) []hotdesk.Binding {
	var devs []string
	if at != "" {
		devs = append(devs, at)
	}
	devs = append(devs, personal...)
	var binds []hotdesk.Binding
	for _, d := range devs {
		if d == except {
			continue
		}
		for _, bind := range b.o.Contacts(d) {
			bind.Device = d
			bind.Node = "" // rung from here
			binds = append(binds, bind)
		}
		binds = append(binds, b.remoteTargets(ctx, d)...)
	}
	return uniqueBindings(binds)
}

// PersonalDevicesStore is implemented by stores with a narrow lookup of a
// user's personal phones (internal/store/sqlstore), which every call to
// the user makes; others are asked through FindDevices.
type PersonalDevicesStore interface {
	PersonalDevices(ctx context.Context, owner string) ([]string, error)
}

// personalDevices returns the ids of ext's personal phones.
func (b *B2BUA) personalDevices(ctx context.Context, ext string) ([]string, error) {
	if p, ok := b.o.Store.(PersonalDevicesStore); ok {
		return p.PersonalDevices(ctx, ext)
	}
	ds, _, err := b.o.Store.FindDevices(ctx, hotdesk.DeviceFilter{Mode: hotdesk.ModePersonal, Owner: ext})
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids, err
}

// deviceInvite builds the INVITE to one registered contact, presenting
// the caller's extension and name (From display and P-Asserted-Identity).
func (b *B2BUA) deviceInvite(a *sip.Request, bind hotdesk.Binding, from party, toExt string) (*sip.Request, error) {
	r, err := b.o.SIP.NewRequestTo(sip.INVITE, bind)
	if err != nil {
		return nil, err
	}
	dom := b.domain()
	fillInvite(r, a, identity{name: from.Name, user: from.Number, host: dom}, sip.Uri{Scheme: "sip", User: toExt, Host: dom})
	return r, nil
}

// identity is what a leg presents as the caller.
type identity struct {
	name, user, host string
}

func (id identity) uri() sip.Uri { return sip.Uri{Scheme: "sip", User: id.user, Host: id.host} }

func (id identity) pai() string {
	u := id.uri()
	if n := displayName(id.name); n != "" {
		return fmt.Sprintf("\"%s\" <%s>", n, u.String())
	}
	return "<" + u.String() + ">"
}

// fillInvite makes r, built by signaling's request builder, a leg of the
// caller's call a: it presents the caller (From, with a new tag), calls to,
// keeps one less Max-Forwards than a, and copies a's offer (SDP unchanged:
// media flows directly between the phones).
func fillInvite(r, a *sip.Request, from identity, to sip.Uri) {
	for _, h := range []string{"From", "To", "Max-Forwards"} {
		r.RemoveHeader(h)
	}
	fh := &sip.FromHeader{DisplayName: displayName(from.name), Address: from.uri(), Params: sip.NewParams()}
	fh.Params.Add("tag", sip.GenerateTagN(16))
	r.AppendHeader(fh)
	r.AppendHeader(&sip.ToHeader{Address: to})
	r.AppendHeader(forwards(a))
	r.AppendHeader(sip.NewHeader("P-Asserted-Identity", from.pai()))
	r.AppendHeader(sip.NewHeader("Allow", allow))
	if ct := a.ContentType(); ct != nil {
		r.AppendHeader(sip.NewHeader("Content-Type", ct.Value()))
	}
	r.SetBody(keysFor(a.Body(), r.Transport()))
}

// displayName makes a name safe inside a quoted SIP display name.
func displayName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// forwards is the Max-Forwards of a leg: one less than the caller's, so a
// call looping through a trunk or a misregistered contact ends (RFC 3261
// section 16.6 step 3; a B2BUA must not reset it either).
func forwards(a *sip.Request) *sip.MaxForwardsHeader {
	mf := sip.MaxForwardsHeader(70)
	if h := a.MaxForwards(); h != nil && h.Val() > 0 {
		mf = sip.MaxForwardsHeader(h.Val() - 1)
	}
	return &mf
}

// tooManyHops answers 483 to a request whose Max-Forwards is 0 (RFC 3261
// section 16.3 step 2) and reports whether it did.
func tooManyHops(req *sip.Request, tx sip.ServerTransaction, log *slog.Logger) bool {
	if h := req.MaxForwards(); h != nil && h.Val() == 0 {
		log.Info("b2bua: INVITE with Max-Forwards 0: a loop", "source", req.Source(), "to", req.Recipient.String())
		signaling.Respond(tx, req, sip.StatusTooManyHops, log)
		return true
	}
	return false
}
