// Package mail sends voicemail to email: each new message of a user who
// has voicemail on and an email address is queued in the store's outbox
// (the WAV attached) and sent through the site's SMTP server (Settings.Mail:
// STARTTLS, AUTH PLAIN). Sending retries with doubling backoff like the
// webhook outbox, so a mail server that is down or refuses for a while
// delays the email but never loses it; after RetryFor a mail is marked
// failed (and stays in the outbox for the record).
//
// Queue runs on every node and queues the deposits made on that node;
// Deliver drains the shared outbox and runs on one node at a time (the app
// wraps it in cluster.Exclusive on PostgreSQL).
package mail

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/follow"
)

// Defaults for Options.
const (
	DefaultFirstRetry = 30 * time.Second
	DefaultMaxBackoff = time.Hour
	DefaultRetryFor   = 48 * time.Hour
	DefaultPoll       = 10 * time.Second // rows queued by other nodes, retries coming due
	DefaultTimeout    = 60 * time.Second // one SMTP session
	batch             = 20
)

// Store is what mail needs of the store (hotdesk.Store has it).
type Store interface {
	EnqueueMail(ctx context.Context, m *hotdesk.Mail) error
	DueMail(ctx context.Context, now time.Time, limit int) ([]*hotdesk.Mail, error)
	UpdateMail(ctx context.Context, m *hotdesk.Mail) error
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
	GetVoicemail(ctx context.Context, ext string, id int64) (*hotdesk.Voicemail, error)
	VoicemailAudio(ctx context.Context, ext string, id int64) ([]byte, error)
	GetSettings(ctx context.Context) (hotdesk.Settings, error)
}

// Options configure an Outbox. Store is required.
type Options struct {
	Store  Store
	Bus    *events.Bus // voicemail events to queue; nil: Queue does nothing
	Logger *slog.Logger
	Now    hotdesk.Clock
	// Hostname is the name the PBX greets the SMTP server with (EHLO) and
	// the right side of Message-IDs; default "localhost".
	Hostname string
	// RootCAs verify the server's STARTTLS certificate (by its host
	// name); nil: the system roots.
	RootCAs *x509.CertPool
	// Backoff: FirstRetry after the first failure, doubling up to
	// MaxBackoff; a mail still failing RetryFor after it was queued is
	// marked failed.
	FirstRetry, MaxBackoff, RetryFor time.Duration
	Poll, Timeout                    time.Duration
}

// Outbox queues and sends voicemail emails.
type Outbox struct {
	o    Options
	log  *slog.Logger
	wake chan struct{}

	events      <-chan events.Event // subscribed in New: no deposit before Queue runs is missed
	unsubscribe func()
}

// New returns an Outbox; Queue and Deliver run it.
func New(o Options) (*Outbox, error) {
	if o.Store == nil {
		return nil, errors.New("mail: Store is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Hostname == "" {
		o.Hostname = "localhost"
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.FirstRetry, DefaultFirstRetry}, {&o.MaxBackoff, DefaultMaxBackoff}, {&o.RetryFor, DefaultRetryFor},
		{&o.Poll, DefaultPoll}, {&o.Timeout, DefaultTimeout}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	b := &Outbox{o: o, log: o.Logger, wake: make(chan struct{}, 1), unsubscribe: func() {}}
	if o.Bus != nil {
		// Deposits only: not woken for a call's events (issue 18).
		b.events, b.unsubscribe = o.Bus.SubscribeKinds(256, func(kind string) bool { return kind == hotdesk.KindVoicemail })
	}
	return b, nil
}

// Wake makes Deliver look for due mail now (non-blocking).
func (b *Outbox) Wake() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Queue follows the bus until ctx is done and queues an email for each
// message deposited on this node (a voicemail event, reason new, with
// Detail "id=N ..."). Other nodes queue their own deposits.
func (b *Outbox) Queue(ctx context.Context) error {
	defer b.unsubscribe()
	follow.Each(ctx, b.events, func(e events.Event) { b.queueEvent(ctx, e) })
	return nil
}

// queueEvent queues the email for e if it is a message deposited here.
func (b *Outbox) queueEvent(ctx context.Context, e events.Event) {
	if e.Kind != hotdesk.KindVoicemail || e.Reason != hotdesk.VoicemailNew || e.Remote() || e.Extension == "" {
		return
	}
	id, ok := detailID(e.Detail)
	if !ok {
		b.log.Warn("mail: voicemail event without a message id", "extension", e.Extension, "detail", e.Detail)
		return
	}
	queued, err := b.QueueMessage(ctx, e.Extension, id)
	if err != nil {
		b.log.Error("mail: queue voicemail email", "extension", e.Extension, "id", id, "err", err)
	} else if queued {
		b.Wake()
	}
}

// detailID reads N of "id=N new=X old=Y".
func detailID(detail string) (int64, bool) {
	for f := range strings.FieldsSeq(detail) {
		if v, ok := strings.CutPrefix(f, "id="); ok {
			id, err := strconv.ParseInt(v, 10, 64)
			return id, err == nil && id > 0
		}
	}
	return 0, false
}

// QueueMessage queues the email for message id of ext when mail is on
// and the user has voicemail and an address, and reports whether it did.
func (b *Outbox) QueueMessage(ctx context.Context, ext string, id int64) (bool, error) {
	st, err := b.o.Store.GetSettings(ctx)
	if err != nil {
		return false, fmt.Errorf("settings: %w", err)
	}
	if !st.Mail.Enabled || st.Mail.Host == "" {
		return false, nil
	}
	u, err := b.o.Store.FindUser(ctx, ext)
	if err != nil {
		return false, fmt.Errorf("user: %w", err)
	}
	if !u.Voicemail || u.Email == "" {
		return false, nil
	}
	v, err := b.o.Store.GetVoicemail(ctx, ext, id)
	if err != nil {
		return false, fmt.Errorf("message: %w", err)
	}
	wav, err := b.o.Store.VoicemailAudio(ctx, ext, id)
	if err != nil {
		return false, fmt.Errorf("audio: %w", err)
	}
	loc, err := time.LoadLocation(st.Timezone)
	if err != nil {
		loc = time.UTC
	}
	m := compose(u, v, wav, st, loc)
	m.CreatedAt = b.o.Now()
	if err := b.o.Store.EnqueueMail(ctx, m); err != nil {
		return false, fmt.Errorf("enqueue: %w", err)
	}
	b.log.Info("mail: voicemail email queued", "extension", ext, "message", id, "mail", m.ID)
	return true, nil
}

// QueueText queues a plain-text email (an emergency alert) when mail is
// on, wakes the sender, and reports whether it queued it: with mail off
// there is nobody to send it, and the alert's other channels carry it.
func (b *Outbox) QueueText(ctx context.Context, to, subject, body string) (bool, error) {
	st, err := b.o.Store.GetSettings(ctx)
	if err != nil {
		return false, fmt.Errorf("settings: %w", err)
	}
	if !st.Mail.Enabled || st.Mail.Host == "" {
		return false, nil
	}
	m := &hotdesk.Mail{To: to, Subject: subject, Body: body, Status: hotdesk.MailPending, CreatedAt: b.o.Now()}
	if err := b.o.Store.EnqueueMail(ctx, m); err != nil {
		return false, fmt.Errorf("enqueue: %w", err)
	}
	b.log.Info("mail: queued", "to", to, "mail", m.ID)
	b.Wake()
	return true, nil
}

// Deliver sends due mail until ctx is done: woken by Queue, and every
// Poll for retries and mail queued by other nodes.
func (b *Outbox) Deliver(ctx context.Context) error {
	t := time.NewTicker(b.o.Poll)
	defer t.Stop()
	for {
		b.drain(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-b.wake:
		case <-t.C:
		}
	}
}

// drain sends every due mail, one at a time, oldest first.
func (b *Outbox) drain(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := b.o.Store.DueMail(ctx, b.o.Now(), batch)
		if err != nil {
			b.log.Warn("mail: read outbox", "err", err)
			return
		}
		if len(due) == 0 {
			return
		}
		st, err := b.o.Store.GetSettings(ctx)
		if err != nil {
			b.log.Warn("mail: settings", "err", err)
			return
		}
		for _, m := range due {
			if ctx.Err() != nil {
				return
			}
			b.attempt(ctx, st.Mail, m)
		}
	}
}

// attempt sends m once and records the outcome: sent, a retry later, or
// failed once RetryFor has passed since it was queued.
func (b *Outbox) attempt(ctx context.Context, s hotdesk.MailSettings, m *hotdesk.Mail) {
	sctx, cancel := context.WithTimeout(ctx, b.o.Timeout)
	err := b.send(sctx, s, m)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: the mail stays due
	}
	now := b.o.Now()
	m.Attempts++
	if err == nil {
		m.Status, m.SentAt, m.LastError = hotdesk.MailSent, &now, ""
		b.log.Info("mail: sent", "mail", m.ID, "to", m.To, "attempts", m.Attempts)
	} else {
		m.LastError = trimError(err)
		m.NextAttempt = now.Add(b.backoff(m.Attempts))
		if now.Sub(m.CreatedAt) >= b.o.RetryFor {
			m.Status = hotdesk.MailFailed
			b.log.Error("mail: given up", "mail", m.ID, "to", m.To, "attempts", m.Attempts, "err", err)
		} else {
			b.log.Warn("mail: send failed, will retry", "mail", m.ID, "to", m.To, "attempts", m.Attempts,
				"next", m.NextAttempt, "err", err)
		}
	}
	if err := b.o.Store.UpdateMail(ctx, m); err != nil {
		b.log.Error("mail: record attempt", "mail", m.ID, "err", err)
	}
}

// backoff is the wait after the n-th failed attempt (n >= 1).
func (b *Outbox) backoff(n int) time.Duration {
	w := b.o.FirstRetry
	for i := 1; i < n && w < b.o.MaxBackoff; i++ {
		w *= 2
	}
	return min(w, b.o.MaxBackoff)
}

// trimError keeps a stored error short and on one line.
func trimError(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}
