package hotdesk

import (
	"context"
	"time"
)

// KindVoicemail is the audit/event kind for mailbox changes; Reason says which
// (VoicemailNew, VoicemailRead, VoicemailSaved, VoicemailDeleted, ...) and
// Detail carries "id=N new=X old=Y" so message-waiting lights can follow.
const KindVoicemail = "voicemail"

// Reasons of voicemail events.
const (
	VoicemailNew      = "new"      // a message was deposited
	VoicemailRead     = "read"     // a message was marked read (heard)
	VoicemailUnread   = "unread"   // a message was marked new again
	VoicemailDeleted  = "deleted"  // a message was deleted
	VoicemailGreeting = "greeting" // the user's greeting was recorded or removed
)

// Voicemail is one message in a user's mailbox. The audio (a WAV file with
// the G.711 samples as received) is kept apart from the metadata and read with
// VoicemailStore.VoicemailAudio.
type Voicemail struct {
	ID         int64     `json:"id"`
	Extension  string    `json:"extension"`
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name"`
	ReceivedAt time.Time `json:"received_at"`
	DurationMS int       `json:"duration_ms"`
	New        bool      `json:"new"`
	Codec      string    `json:"codec"` // "PCMU" or "PCMA"
}

// VoicemailStore persists mailboxes: message metadata and audio, and each
// user's recorded greeting. A user's messages and greeting are deleted with
// the user.
type VoicemailStore interface {
	// CreateVoicemail stores v with its WAV audio, assigning v.ID (and
	// v.ReceivedAt if zero). ENOTFOUND if the extension does not exist.
	CreateVoicemail(ctx context.Context, v *Voicemail, wav []byte) error
	// ListVoicemail lists ext's messages: new ones first, then saved ones,
	// oldest first within each group.
	ListVoicemail(ctx context.Context, ext string) ([]*Voicemail, error)
	// GetVoicemail returns one message of ext; ENOTFOUND if none.
	GetVoicemail(ctx context.Context, ext string, id int64) (*Voicemail, error)
	// VoicemailAudio returns the message's WAV file; ENOTFOUND if none.
	VoicemailAudio(ctx context.Context, ext string, id int64) ([]byte, error)
	// MarkVoicemail sets the message's new flag; ENOTFOUND if none.
	MarkVoicemail(ctx context.Context, ext string, id int64, isNew bool) error
	// DeleteVoicemail deletes the message and its audio; ENOTFOUND if none.
	DeleteVoicemail(ctx context.Context, ext string, id int64) error
	// VoicemailCounts counts ext's new and saved messages.
	VoicemailCounts(ctx context.Context, ext string) (newCount, oldCount int, err error)

	// PutGreeting stores ext's recorded greeting (a WAV file), replacing any.
	PutGreeting(ctx context.Context, ext string, wav []byte) error
	// Greeting returns ext's recorded greeting; ENOTFOUND if none.
	Greeting(ctx context.Context, ext string) ([]byte, error)
	// DeleteGreeting removes ext's greeting; ENOTFOUND if none.
	DeleteGreeting(ctx context.Context, ext string) error
}
