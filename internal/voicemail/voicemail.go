// Package voicemail is the PBX's mailboxes (issue 13): a call to a user who
// is busy, does not answer or is logged in nowhere is answered here, greets
// the caller and records a message (Deposit); *97 and *98 open a mailbox
// after the user's hot desk PIN and play, save and delete messages and
// record the greeting by DTMF (Open). Messages are durable from the first
// second: the audio is appended to a spool file in the data directory,
// synced every second, and moved into the store (metadata and WAV, so
// every node of a cluster plays every message) when the recording ends;
// spool files a crash left behind become messages at the next start.
//
// The SIP side of these calls (dialog, SDP, INFO keys) is internal/feature's;
// this package sees the call's media session only.
package voicemail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
)

// Store is what mailboxes need of the store (hotdesk.Store has it).
type Store interface {
	hotdesk.VoicemailStore
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
	AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error
}

// PINChecker checks a user's hot desk PIN with the desk lockout: wrong
// PINs count toward it (desk.Service.VerifyPIN).
type PINChecker interface {
	VerifyPIN(ctx context.Context, ext, pin, device, source string) error
}

// Call is the answered-on-demand call a dialogue runs on.
type Call interface {
	// Answer answers the call (200 OK) once; later calls do nothing.
	Answer() error
	// Session is the call's media: prompts out, keys and audio in.
	Session() *media.Session
}

// Options configures a Service.
type Options struct {
	Store    Store
	PIN      PINChecker
	Bus      *events.Bus // nil: audited only
	SpoolDir string      // DATA/voicemail/spool
	Settings func(ctx context.Context) hotdesk.Settings
	Prompts  func(lang string) (*prompts.Set, error)
	Logger   *slog.Logger
	Now      hotdesk.Clock // nil = time.Now
}

// Service deposits and retrieves messages. Safe for concurrent use.
type Service struct {
	o   Options
	log *slog.Logger

	mu     sync.Mutex
	active map[string]bool // spool names being recorded now
}

// New checks o, creates the spool directory and returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.PIN == nil || o.Settings == nil || o.Prompts == nil || o.SpoolDir == "" {
		return nil, errors.New("voicemail: Store, PIN, Settings, Prompts and SpoolDir are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(o.SpoolDir, 0o750); err != nil {
		return nil, fmt.Errorf("voicemail: spool: %w", err)
	}
	return &Service{o: o, log: o.Logger, active: map[string]bool{}}, nil
}

// settings are the site's voicemail settings with defaults filled in.
func (s *Service) settings(ctx context.Context) (hotdesk.Settings, hotdesk.VoicemailSettings) {
	st := s.o.Settings(ctx)
	return st, st.Voicemail.WithDefaults()
}

// promptSet loads the site language's prompts, English when that fails.
func (s *Service) promptSet(lang string) (*prompts.Set, error) {
	if lang == "" {
		lang = "en"
	}
	set, err := s.o.Prompts(lang)
	if err != nil && lang != "en" {
		s.log.Warn("voicemail: prompts unavailable, using English", "lang", lang, "err", err)
		set, err = s.o.Prompts("en")
	}
	if err != nil {
		return nil, fmt.Errorf("voicemail: prompts: %w", err)
	}
	return set, nil
}

// Changed audits a mailbox change and publishes it as a voicemail event
// whose Detail carries the message id and the mailbox's new and saved
// counts ("id=N new=X old=Y"), so message-waiting lights can follow.
func (s *Service) Changed(ctx context.Context, ext string, id int64, reason, source string) {
	n, o, err := s.o.Store.VoicemailCounts(ctx, ext)
	if err != nil {
		s.log.Warn("voicemail: count", "extension", ext, "err", err)
	}
	e := &hotdesk.AuditEvent{Time: s.o.Now(), Kind: hotdesk.KindVoicemail, Extension: ext, Reason: reason,
		Source: source, Detail: fmt.Sprintf("id=%d new=%d old=%d", id, n, o)}
	if err := s.o.Store.AppendAudit(ctx, e); err != nil {
		s.log.Warn("voicemail: audit", "extension", ext, "reason", reason, "err", err)
	}
	if s.o.Bus != nil {
		s.o.Bus.Publish(events.Event{Time: e.Time, Kind: e.Kind, Extension: ext, Reason: reason,
			Source: source, Detail: e.Detail})
	}
}

// Mark sets a message's new flag and publishes the change (read or unread).
func (s *Service) Mark(ctx context.Context, ext string, id int64, isNew bool, source string) error {
	if err := s.o.Store.MarkVoicemail(ctx, ext, id, isNew); err != nil {
		return err
	}
	reason := hotdesk.VoicemailRead
	if isNew {
		reason = hotdesk.VoicemailUnread
	}
	s.Changed(ctx, ext, id, reason, source)
	return nil
}

// Delete deletes a message and publishes it.
func (s *Service) Delete(ctx context.Context, ext string, id int64, source string) error {
	if err := s.o.Store.DeleteVoicemail(ctx, ext, id); err != nil {
		return err
	}
	s.Changed(ctx, ext, id, hotdesk.VoicemailDeleted, source)
	return nil
}
