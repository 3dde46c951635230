package admin

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// Mailbox is the part of the voicemail store the Service uses
// (hotdesk.VoicemailStore has it).
type Mailbox interface {
	ListVoicemail(ctx context.Context, ext string) ([]*hotdesk.Voicemail, error)
	GetVoicemail(ctx context.Context, ext string, id int64) (*hotdesk.Voicemail, error)
	VoicemailAudio(ctx context.Context, ext string, id int64) ([]byte, error)
	MarkVoicemail(ctx context.Context, ext string, id int64, isNew bool) error
	DeleteVoicemail(ctx context.Context, ext string, id int64) error
	VoicemailCounts(ctx context.Context, ext string) (newCount, oldCount int, err error)
}

// Voicemails is the voicemail part of the Service that the API and the
// console call; both declare it in their Admin interface.
type Voicemails interface {
	ListVoicemail(ctx context.Context, ext string) ([]*hotdesk.Voicemail, error)
	Voicemail(ctx context.Context, ext string, id int64) (*hotdesk.Voicemail, []byte, error)
	UpdateVoicemail(ctx context.Context, source, ext string, id int64, in VoicemailInput) (*hotdesk.Voicemail, error)
	DeleteVoicemail(ctx context.Context, source, ext string, id int64) error
}

// mailbox is the store's mailbox part; a store without one (a test fake)
// answers that voicemail is unavailable.
func (s *Service) mailbox() (Mailbox, error) {
	if m, ok := s.store.(Mailbox); ok {
		return m, nil
	}
	return nil, hotdesk.Errorf(hotdesk.EUNAVAILABLE, "Voicemail is not available.")
}

// ListVoicemail lists ext's messages, new ones first; ENOTFOUND when the
// user does not exist.
func (s *Service) ListVoicemail(ctx context.Context, ext string) ([]*hotdesk.Voicemail, error) {
	m, err := s.mailbox()
	if err != nil {
		return nil, err
	}
	if _, err := s.store.FindUser(ctx, ext); err != nil {
		return nil, err
	}
	vs, err := m.ListVoicemail(ctx, ext)
	if err != nil {
		return nil, fmt.Errorf("list voicemail: %w", err)
	}
	return vs, nil
}

// Voicemail returns one of ext's messages with its WAV audio; ENOTFOUND
// when there is no such user or message.
func (s *Service) Voicemail(ctx context.Context, ext string, id int64) (*hotdesk.Voicemail, []byte, error) {
	m, err := s.mailbox()
	if err != nil {
		return nil, nil, err
	}
	v, err := m.GetVoicemail(ctx, ext, id)
	if err != nil {
		return nil, nil, notFoundMessage(err, ext, id)
	}
	wav, err := m.VoicemailAudio(ctx, ext, id)
	if err != nil {
		return nil, nil, notFoundMessage(err, ext, id)
	}
	return v, wav, nil
}

// VoicemailInput changes a message: New false marks it heard (saved), true
// marks it new again. New is required.
type VoicemailInput struct {
	New *bool `json:"new"`
}

// UpdateVoicemail applies in to one of ext's messages, audits the change
// and publishes a voicemail event (reason read or unread, Detail "id=N
// new=X old=Y") so the user's message lamp follows.
func (s *Service) UpdateVoicemail(ctx context.Context, source, ext string, id int64, in VoicemailInput) (*hotdesk.Voicemail, error) {
	if in.New == nil {
		return nil, hotdesk.Invalidf("new", "new is required (true or false).")
	}
	m, err := s.mailbox()
	if err != nil {
		return nil, err
	}
	v, err := m.GetVoicemail(ctx, ext, id)
	if err != nil {
		return nil, notFoundMessage(err, ext, id)
	}
	if v.New == *in.New {
		return v, nil // nothing changes: no audit, no lamp update
	}
	if err := m.MarkVoicemail(ctx, ext, id, *in.New); err != nil {
		return nil, notFoundMessage(err, ext, id)
	}
	v.New = *in.New
	reason := hotdesk.VoicemailRead
	if v.New {
		reason = hotdesk.VoicemailUnread
	}
	s.auditVoicemail(ctx, m, source, ext, id, reason)
	return v, nil
}

// DeleteVoicemail deletes one of ext's messages and its audio, audited and
// published (reason deleted).
func (s *Service) DeleteVoicemail(ctx context.Context, source, ext string, id int64) error {
	m, err := s.mailbox()
	if err != nil {
		return err
	}
	if err := m.DeleteVoicemail(ctx, ext, id); err != nil {
		return notFoundMessage(err, ext, id)
	}
	s.auditVoicemail(ctx, m, source, ext, id, hotdesk.VoicemailDeleted)
	return nil
}

// auditVoicemail records a mailbox change with the counts after it.
func (s *Service) auditVoicemail(ctx context.Context, m Mailbox, source, ext string, id int64, reason string) {
	n, o, err := m.VoicemailCounts(ctx, ext)
	if err != nil {
		s.log.Warn("admin: voicemail counts", "extension", ext, "err", err)
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindVoicemail, Extension: ext, Reason: reason,
		Detail: fmt.Sprintf("id=%d new=%d old=%d", id, n, o)})
}

// notFoundMessage names the message in a not-found error.
func notFoundMessage(err error, ext string, id int64) error {
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "User %s has no message %d.", ext, id)
	}
	return err
}

// ServeWAV writes a message's audio as audio/wav for both edges (the API
// and the console's <audio> player). http.ServeContent answers Range
// requests with 206, so a browser can seek, and conditional ones.
func ServeWAV(w http.ResponseWriter, r *http.Request, v *hotdesk.Voicemail, wav []byte) {
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="voicemail-%s-%d.wav"`, v.Extension, v.ID))
	http.ServeContent(w, r, "", v.ReceivedAt, bytes.NewReader(wav))
}

// mailErrors checks the voicemail-to-email settings: with mail enabled a
// host and a sender are required; a port is 1 to 65535 (0: 587).
func mailErrors(m *hotdesk.MailSettings) []error {
	trim(&m.Host, &m.Username, &m.From)
	var errs []error
	if m.Enabled && m.Host == "" {
		errs = append(errs, hotdesk.Invalidf("mail.host", "An SMTP server is required to send voicemail by email."))
	}
	if strings.ContainsAny(m.Host, " /:@") {
		errs = append(errs, hotdesk.Invalidf("mail.host", "The SMTP server is a host name or IP address, without a port."))
	}
	if m.Port < 0 || m.Port > 65535 {
		errs = append(errs, hotdesk.Invalidf("mail.port", "The port must be 1 to 65535 (0 for 587)."))
	}
	if m.Enabled && m.From == "" {
		errs = append(errs, hotdesk.Invalidf("mail.from", "A sender address is required to send voicemail by email."))
	}
	errs = append(errs, validate.Email("mail.from", m.From))
	if m.Password != "" && m.Username == "" {
		errs = append(errs, hotdesk.Invalidf("mail.username", "A password needs a username."))
	}
	return errs
}
