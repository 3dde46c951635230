// Package feature answers hot-desk feature-code calls (*35…, *77…; SPEC
// section 5) as a media endpoint: it parses the dialled code, answers with
// SDP, plays voice prompts, collects DTMF (RFC 4733 through the media
// session, SIP INFO here), applies the outcome through the desk rules and
// hangs up. One goroutine — the one sipgo runs the INVITE handler in — owns
// each call from INVITE to BYE.
package feature

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/settings"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/voicemail"
)

// PromptSet is one language's voice prompts (internal/media/prompts.Set).
type PromptSet interface {
	// Say concatenates the named prompts into 8 kHz linear PCM.
	Say(names ...string) []int16
	// Parts appends the named prompts' samples to dst (shared, not
	// copied), for media.Session.PlaySegments with prompts.Gap.
	Parts(dst [][]int16, names ...string) [][]int16
}

// promptLoader adapts a prompts.Set loader to the PromptSet interface (nil
// stays nil so New can report it).
func promptLoader(f func(lang string) (*prompts.Set, error)) func(string) (PromptSet, error) {
	if f == nil {
		return nil
	}
	return func(lang string) (PromptSet, error) {
		set, err := f(lang)
		if err != nil {
			return nil, err
		}
		return set, nil
	}
}

// Store is what feature codes need of the store (hotdesk.Store has it):
// the site settings and the users.
type Store interface {
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
	GetSettings(ctx context.Context) (hotdesk.Settings, error)
}

// Options configures a Service.
type Options struct {
	Desk    *desk.Service
	Store   Store // settings (language) and users
	Prompts func(lang string) (*prompts.Set, error)
	Ports   *media.PortPool
	MediaIP string // address RTP is bound to and announced in SDP
	SIP     *signaling.Server
	Logger  *slog.Logger
	Now     hotdesk.Clock // nil = time.Now
	// Settings is the shared settings cache (internal/settings); nil: a
	// cache of its own over Store.
	Settings *settings.Cache
	// Voicemail answers *97/*98 and calls the B2BUA hands over (Deposit);
	// nil: those codes are answered "service unavailable".
	Voicemail *voicemail.Service
	// Moved, when set, reports whether the phone, calling from source,
	// seems to have moved off its site's networks: a login there ends with
	// a warning prompt (issue 16).
	Moved func(ctx context.Context, dev *hotdesk.Device, source string) bool
}

// Service handles feature-code calls. Safe for concurrent use.
type Service struct {
	rules   rules
	store   Store
	prompts func(lang string) (PromptSet, error)
	ports   *media.PortPool
	mediaIP string
	sip     *signaling.Server
	log     *slog.Logger
	now     hotdesk.Clock
	moved   func(ctx context.Context, dev *hotdesk.Device, source string) bool

	active atomic.Int64

	settings *settings.Cache
	vm       *voicemail.Service
}

// New checks o and returns a Service.
func New(o Options) (*Service, error) {
	if o.Desk == nil || o.Store == nil || o.Prompts == nil || o.Ports == nil || o.SIP == nil {
		return nil, errors.New("feature: Desk, Store, Prompts, Ports and SIP are required")
	}
	if o.MediaIP == "" {
		o.MediaIP = "127.0.0.1"
	}
	s := &Service{
		rules: o.Desk, store: o.Store, prompts: promptLoader(o.Prompts), ports: o.Ports, mediaIP: o.MediaIP,
		sip: o.SIP, log: o.Logger, now: o.Now, settings: o.Settings, vm: o.Voicemail, moved: o.Moved,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.settings == nil {
		s.settings = settings.New(o.Store, 0, s.now)
	}
	return s, nil
}

// Active is the number of feature-code calls in progress.
func (s *Service) Active() int { return int(s.active.Load()) }

// siteSettings returns the site settings from the cache (the last good
// copy, or the defaults, when the store fails).
func (s *Service) siteSettings(ctx context.Context) hotdesk.Settings { return s.settings.Get(ctx) }

// lang returns the site's prompt language.
func (s *Service) lang(ctx context.Context) string {
	if l := s.siteSettings(ctx).Lang; l != "" {
		return l
	}
	return "en"
}

// digitTimeouts are the site's first- and inter-digit timeouts; a value
// not set (settings saved before they existed) is the default.
func (s *Service) digitTimeouts(ctx context.Context) (first, inter time.Duration) {
	p, def := s.siteSettings(ctx).Prompts, hotdesk.DefaultSettings().Prompts
	if p.FirstDigitSeconds <= 0 {
		p.FirstDigitSeconds = def.FirstDigitSeconds
	}
	if p.InterDigitSeconds <= 0 {
		p.InterDigitSeconds = def.InterDigitSeconds
	}
	return time.Duration(p.FirstDigitSeconds) * time.Second, time.Duration(p.InterDigitSeconds) * time.Second
}

// promptSet loads the prompts of the site language, falling back to English.
func (s *Service) promptSet(ctx context.Context) (PromptSet, error) {
	lang := s.lang(ctx)
	set, err := s.prompts(lang)
	if err != nil && lang != "en" {
		s.log.Warn("feature: prompts unavailable, using English", "lang", lang, "err", err)
		set, err = s.prompts("en")
	}
	if err != nil {
		return nil, fmt.Errorf("feature: prompts %s: %w", lang, err)
	}
	return set, nil
}
