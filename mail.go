package hotdesk

import (
	"context"
	"time"
)

// Mail is one email in the outbox (voicemail-to-email): queued when a
// message is deposited, sent by internal/mail with retries, so a failing
// mail server delays a notification but never loses it.
type Mail struct {
	ID             int64      `json:"id"`
	To             string     `json:"to"`
	Subject        string     `json:"subject"`
	Body           string     `json:"body"`            // plain text
	AttachmentName string     `json:"attachment_name"` // "" = none
	Attachment     []byte     `json:"-"`               // the WAV file
	Status         string     `json:"status"`          // MailPending, MailSent, MailFailed
	Attempts       int        `json:"attempts"`
	NextAttempt    time.Time  `json:"next_attempt"`
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
}

// Mail states.
const (
	MailPending = "pending"
	MailSent    = "sent"
	MailFailed  = "failed" // given up after the last retry
)

// MailStore is the email outbox.
type MailStore interface {
	// EnqueueMail stores m as pending, assigning m.ID, m.CreatedAt (if
	// zero) and m.NextAttempt (CreatedAt if zero).
	EnqueueMail(ctx context.Context, m *Mail) error
	// DueMail returns up to limit pending mails whose next attempt is not
	// after now, oldest first, with their attachments.
	DueMail(ctx context.Context, now time.Time, limit int) ([]*Mail, error)
	// UpdateMail stores m's Status, Attempts, NextAttempt, LastError and
	// SentAt; ENOTFOUND if it does not exist.
	UpdateMail(ctx context.Context, m *Mail) error
	// FindMail returns one mail without its attachment; ENOTFOUND if none.
	FindMail(ctx context.Context, id int64) (*Mail, error)
}
