package provision

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/xml"
	"fmt"
	"strings"
	"text/template"
	"unicode"

	"github.com/hotdesk-pbx/hotdesk"
)

// Slots is how many programmable keys every configuration writes. Unused
// slots are written empty so that the keys of the previous user disappear
// when a phone reprovisions after a logout.
const Slots = 12

// Key types of a phone key, independent of vendor.
const (
	keyNone  = ""
	keyDial  = "dial"  // dials a feature code (login/logout)
	keyBLF   = "blf"   // busy lamp field for an extension
	keySpeed = "speed" // speed dial
)

//go:embed templates
var templateFS embed.FS

// vendor is one phone family: how its file is named and rendered.
type vendor struct {
	name        string // hotdesk.Model* value
	file        string // template path
	contentType string
	tmpl        *template.Template
}

func loadVendors() (map[string]*vendor, error) {
	vs := map[string]*vendor{
		hotdesk.ModelSnom:        {name: hotdesk.ModelSnom, file: "templates/snom/settings.xml.tmpl", contentType: "application/xml; charset=utf-8"},
		hotdesk.ModelYealink:     {name: hotdesk.ModelYealink, file: "templates/yealink/mac.cfg.tmpl", contentType: "text/plain; charset=utf-8"},
		hotdesk.ModelGrandstream: {name: hotdesk.ModelGrandstream, file: "templates/grandstream/cfg.xml.tmpl", contentType: "application/xml; charset=utf-8"},
	}
	for _, v := range vs {
		t, err := template.New(v.name).Funcs(funcs).ParseFS(templateFS, v.file)
		if err != nil {
			return nil, fmt.Errorf("parse %s template: %w", v.name, err)
		}
		v.tmpl = t.Lookup(v.file[strings.LastIndexByte(v.file, '/')+1:])
	}
	return vs, nil
}

var funcs = template.FuncMap{
	"x":   xmlText,
	"y":   oneLine,
	"add": func(a, b int) int { return a + b },
	"mul": func(a, b int) int { return a * b },
	"snomKey": func(k key) string {
		switch k.Type {
		case keyBLF:
			return "blf <sip:" + k.Value + "@" + k.realm + ">"
		case keyDial, keySpeed:
			return "speed " + k.Value
		}
		return "none"
	},
	"yealinkType": keyCode(16, 13, 0),
	"gsMode":      keyCode(1, 0, -1),
}

// keyCode is a vendor's number for a key's type: blf for a BLF key, dial
// for a dial or speed-dial key, other for anything else.
func keyCode(blf, dial, other int) func(key) int {
	return func(k key) int {
		switch k.Type {
		case keyBLF:
			return blf
		case keyDial, keySpeed:
			return dial
		}
		return other
	}
}

// xmlText escapes s for XML text and attribute values, dropping characters
// XML 1.0 cannot carry.
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r != 0xFFFE && r != 0xFFFF {
			return r
		}
		return -1
	}, s)))
	return b.String()
}

// oneLine makes s fit one display line (and the value of a Yealink
// "key = value" line): control characters become blanks, ends are trimmed.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// key is one programmable key.
type key struct {
	Index int    // 0-based slot
	Type  string // key* constant
	Label string
	Value string // number or extension
	realm string // SIP domain, for Snom BLF URIs
}

// view is everything a template may show. Only this device's secrets are in
// it: the templates cannot reach any other device.
type view struct {
	MAC      string
	DeviceID string
	Password string
	Realm    string
	Host     string
	Port     int // the SIP port of Transport
	// Transport is the phone's SIP transport (udp, tcp or tls) and SRTP
	// its SRTP policy on it (off, optional, required; off unless tls).
	Transport string
	SRTP      string
	Display   string // SIP display name
	Label     string // text on the idle screen / account key
	Number    string // extension shown, or the device id when neutral
	LoggedIn  bool
	Keys      []key
	// Mailbox is what the phone's message key dials: the code that opens
	// the mailbox of the user logged in on the phone (*97 by default), so
	// it reaches whoever is at the desk. The phone subscribes to
	// message-summary with its own account; the PBX answers with the
	// mailbox of the user logged in on it (internal/mwi).
	Mailbox  string
	LangName string // English, Dutch
	LangCode string // en, nl
	Zone     zone
}

// labels are the key labels per language.
var labels = map[string]struct{ login, logout string }{
	"en": {"Login", "Logout"},
	"nl": {"Aanmelden", "Afmelden"},
}

// buildView assembles the view of device d for user u (nil: neutral).
func (s *Server) buildView(ctx context.Context, d *hotdesk.Device, u *hotdesk.User, st hotdesk.Settings) view {
	v := view{MAC: d.MAC, DeviceID: d.ID, Password: d.SIPPassword, Realm: s.opts.Realm,
		Host: s.opts.SIPHost, Port: s.opts.SIPPort, Display: d.ID, Label: d.ID, Number: d.ID}
	v.Mailbox, _ = st.FeatureCodes.VoicemailCodes()
	v.Transport, v.SRTP = s.transport(d, st)
	if v.Transport == "tls" {
		v.Port = s.opts.SIPTLSPort
	}
	v.LangCode, v.LangName = "en", "English"
	if st.Lang == "nl" {
		v.LangCode, v.LangName = "nl", "Dutch"
	}
	z, err := lookupZone(st.Timezone)
	if err != nil {
		s.log.Warn("provisioning: time zone", "error", err)
	}
	v.Zone = z
	lbl := labels[v.LangCode]
	var keys []key
	if u == nil {
		keys = append(keys, key{Type: keyDial, Label: lbl.login, Value: loginCode(st.FeatureCodes)})
	} else {
		v.LoggedIn = true
		v.Display, v.Number = u.Name, u.Extension
		v.Label = fmt.Sprintf("%s %s", u.Extension, u.Name)
		if d.Mode == hotdesk.ModeHotdesk {
			keys = append(keys, key{Type: keyDial, Label: lbl.logout, Value: logoutCode(st.FeatureCodes)})
		}
		keys = append(keys, s.userKeys(ctx, u)...)
	}
	if len(keys) > Slots {
		s.log.Warn("provisioning: more keys than slots", "device", d.ID, "keys", len(keys), "slots", Slots)
		keys = keys[:Slots]
	}
	v.Keys = make([]key, Slots)
	for i := range v.Keys {
		if i < len(keys) {
			v.Keys[i] = keys[i]
		}
		k := &v.Keys[i]
		k.Index, k.realm = i, s.opts.Realm
		k.Label, k.Value = oneLine(k.Label), oneLine(k.Value)
	}
	v.Display, v.Label = oneLine(v.Display), oneLine(v.Label)
	return v
}

// transport is the device's SIP transport (its own, else the site's,
// else udp) and SRTP policy. TLS needs the TLS listener: without one the
// phone is told UDP (and the log says why). SRTP only goes with TLS.
func (s *Server) transport(d *hotdesk.Device, st hotdesk.Settings) (transport, srtp string) {
	transport = cmp.Or(d.SIPTransport, st.TLS.PhoneTransport, "udp")
	if transport == "tls" && s.opts.SIPTLSPort == 0 {
		s.log.Warn("provisioning: device set to TLS but the PBX has no SIP TLS listener (--sip-tls); provisioned with UDP", "device", d.ID)
		transport = "udp"
	}
	if transport != "tls" {
		return transport, hotdesk.SRTPOff
	}
	return transport, cmp.Or(d.SRTP, hotdesk.SRTPOptional)
}

// userKeys are the user's BLF keys (labelled with the watched user's name
// when known) followed by the speed dials.
func (s *Server) userKeys(ctx context.Context, u *hotdesk.User) []key {
	var keys []key
	for _, ext := range u.BLF {
		label := ext
		if w, err := s.opts.Store.FindUser(ctx, ext); err == nil && w.Name != "" {
			label = w.Name
		}
		keys = append(keys, key{Type: keyBLF, Label: label, Value: ext})
	}
	for _, sd := range u.SpeedDials {
		label := sd.Label
		if label == "" {
			label = sd.Number
		}
		keys = append(keys, key{Type: keySpeed, Label: label, Value: sd.Number})
	}
	return keys
}

// loginCode is what the neutral phone's key dials: the *35 code, which
// prompts for extension and PIN.
func loginCode(fc hotdesk.FeatureCodes) string {
	if fc.Star35 != "" {
		return fc.Star35
	}
	return "*35"
}

// logoutCode is what the logout key dials: *35 logs out on a logged-in
// phone; with the *35 family off, *77*5* does.
func logoutCode(fc hotdesk.FeatureCodes) string {
	if !fc.Star35Enabled && fc.Star77Enabled && fc.Star77 != "" && fc.Logout77 != "" {
		return fc.Star77 + "*" + fc.Logout77 + "*"
	}
	return loginCode(fc)
}

// render executes v's vendor template.
func (vd *vendor) render(v view) ([]byte, error) {
	var b bytes.Buffer
	if err := vd.tmpl.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("render %s: %w", vd.name, err)
	}
	return b.Bytes(), nil
}
