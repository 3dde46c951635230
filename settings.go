package hotdesk

import "context"

// FeatureCodes holds the configurable feature-code prefixes.
type FeatureCodes struct {
	Star35Enabled bool   `json:"star35_enabled"` // the *35 family
	Star35        string `json:"star35"`         // default "*35"
	Star77Enabled bool   `json:"star77_enabled"` // the *77 family
	Star77        string `json:"star77"`         // default "*77"
	Logout77      string `json:"logout77"`       // the "5" in *77*5*
	// Voicemail opens the mailbox of the user at the phone (default "*97",
	// also when empty); VoicemailAny asks for the extension (default "*98").
	Voicemail    string `json:"voicemail"`
	VoicemailAny string `json:"voicemail_any"`
}

// VoicemailCodes returns the mailbox codes, the defaults for empty ones.
func (fc FeatureCodes) VoicemailCodes() (own, any string) {
	own, any = fc.Voicemail, fc.VoicemailAny
	if own == "" {
		own = "*97"
	}
	if any == "" {
		any = "*98"
	}
	return own, any
}

// Trunk is the SIP trunk to the provider.
type Trunk struct {
	Enabled  bool     `json:"enabled"`
	Proxy    string   `json:"proxy"`    // host:port of the provider's proxy
	Register bool     `json:"register"` // register to the provider
	Username string   `json:"username"`
	Password string   `json:"password,omitempty"`
	Realm    string   `json:"realm"`
	Domain   string   `json:"domain"`  // provider's SIP domain for From/To
	Sources  []string `json:"sources"` // provider addresses (IP or CIDR) for inbound
	// Transport to the proxy: "udp" (default, also ""), "tcp" or "tls".
	// Emergency calls fall back to UDP when a TCP/TLS connection is
	// refused (RFC 3261 18.1.1).
	Transport string `json:"transport"`
}

// TrunkTransports are the values Trunk.Transport accepts ("" is udp).
var TrunkTransports = []string{"udp", "tcp", "tls"}

// PromptSettings are the digit timeouts of prompted feature-code calls
// (*35 and *77 asking for an extension or PIN). They are generous: people
// look up a PIN, and some phones send SIP INFO keys seconds late.
type PromptSettings struct {
	FirstDigitSeconds int `json:"first_digit_seconds"` // after the prompt, for the first key; default 10
	InterDigitSeconds int `json:"inter_digit_seconds"` // between keys; default 10
}

// Settings are the site-wide settings an admin edits in the console.
type Settings struct {
	FeatureCodes        FeatureCodes `json:"feature_codes"`
	Emergency           []string     `json:"emergency_numbers"`
	AutoLogout          AutoLogout   `json:"auto_logout"`
	Lang                string       `json:"lang"`                 // en | nl
	Timezone            string       `json:"timezone"`             // IANA name, e.g. Europe/Amsterdam
	NationalPrefix      string       `json:"national_prefix"`      // default "0"
	InternationalPrefix string       `json:"international_prefix"` // default "00"
	CountryCode         string       `json:"country_code"`         // e.g. "31", for E.164
	Trunk               Trunk        `json:"trunk"`

	// Prompts: digit timeouts of prompted logins.
	Prompts PromptSettings `json:"prompts"`
	Limits  LimitSettings  `json:"limits"` // per-device caps (issue 11)
	TLS     TLSSettings    `json:"tls"`    // SIP over TLS and SRTP (issue 15)

	Voicemail VoicemailSettings `json:"voicemail"` // mailboxes (issue 13)
	Mail      MailSettings      `json:"mail"`      // voicemail-to-email (issue 13)
}

// TLSSettings are the site's SIP over TLS choices.
type TLSSettings struct {
	// PhoneTransport is the SIP transport provisioned to phones whose
	// device says none: "udp" (default, also ""), "tcp" or "tls".
	PhoneTransport string `json:"phone_transport"`
	// TrunkCA pins the CA (PEM) a TLS trunk's certificate must chain to
	// instead of the system's roots; TrunkFingerprint pins the
	// certificate itself (SHA-256, hex with or without colons). Either
	// replaces the system roots; the host name is checked unless a
	// fingerprint matches.
	TrunkCA          string `json:"trunk_ca"`
	TrunkFingerprint string `json:"trunk_fingerprint"`
}

// MailSettings is the SMTP server voicemail-to-email goes through. With
// Enabled, each new message of a user with voicemail and an email address
// is mailed to them with the WAV attached.
type MailSettings struct {
	Enabled  bool   `json:"enabled"`
	Host     string `json:"host"`
	Port     int    `json:"port"`     // default 587
	StartTLS bool   `json:"starttls"` // STARTTLS required before credentials are sent
	Username string `json:"username"` // "" = no authentication
	Password string `json:"password,omitempty"`
	From     string `json:"from"` // sender address, e.g. pbx@example.com
}

// VoicemailSettings bound the mailboxes. A zero field means its default.
type VoicemailSettings struct {
	MaxSeconds     int `json:"max_seconds"`     // longest message; default 180
	SilenceSeconds int `json:"silence_seconds"` // a message ends after this much silence; default 5
	Quota          int `json:"quota"`           // messages a mailbox holds; default 100
}

// WithDefaults returns v with zero fields set to their defaults.
func (v VoicemailSettings) WithDefaults() VoicemailSettings {
	def := DefaultSettings().Voicemail
	if v.MaxSeconds <= 0 {
		v.MaxSeconds = def.MaxSeconds
	}
	if v.SilenceSeconds <= 0 {
		v.SilenceSeconds = def.SilenceSeconds
	}
	if v.Quota <= 0 {
		v.Quota = def.Quota
	}
	return v
}

// LimitSettings bound what one phone can hold, so a broken or hostile
// phone cannot take every RTP port or flood the PBX with subscriptions.
type LimitSettings struct {
	// CallsPerDevice is how many calls one device may have at once (as
	// caller, feature-code calls included); more get 486 Busy Here.
	CallsPerDevice int `json:"calls_per_device"`
	// SubscriptionsPerDevice caps a device's dialog (BLF) subscriptions.
	SubscriptionsPerDevice int `json:"subscriptions_per_device"`
	// SubscriptionsPerExtension caps subscriptions watching one extension.
	SubscriptionsPerExtension int `json:"subscriptions_per_extension"`
}

// DefaultSettings returns the settings of a fresh install.
func DefaultSettings() Settings {
	return Settings{
		FeatureCodes: FeatureCodes{Star35Enabled: true, Star35: "*35", Star77Enabled: true, Star77: "*77", Logout77: "5",
			Voicemail: "*97", VoicemailAny: "*98"},
		Emergency:           []string{"112", "911", "999"},
		Lang:                "en",
		Timezone:            "UTC",
		NationalPrefix:      "0",
		InternationalPrefix: "00",
		CountryCode:         "31",

		Prompts: PromptSettings{FirstDigitSeconds: 10, InterDigitSeconds: 10},
		Limits:  LimitSettings{CallsPerDevice: 4, SubscriptionsPerDevice: 100, SubscriptionsPerExtension: 500},
		Mail:    MailSettings{Port: 587, StartTLS: true},

		Voicemail: VoicemailSettings{MaxSeconds: 180, SilenceSeconds: 5, Quota: 100},
	}
}

// SettingsStore persists the site settings as one document.
type SettingsStore interface {
	// GetSettings returns DefaultSettings() when none were saved.
	GetSettings(ctx context.Context) (Settings, error)
	PutSettings(ctx context.Context, s Settings) error
}
