package desk

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
)

// Detail values of an abandoned prompted login: what the phone was asked.
const (
	StageExtension = "extension"
	StagePIN       = "pin"
)

// LoginAbandoned audits a prompted phone login that ended before a PIN was
// tried, as login_failed with reason hotdesk.ReasonTimeout, ReasonHangup or
// ReasonNoInput, and stage (StageExtension, StagePIN) as its detail. ext is
// the extension asked for, "" when the caller had not typed one. It counts
// towards no lockout: no PIN was tried. Errors: ErrUnavailable.
func (s *Service) LoginAbandoned(ctx context.Context, ext, device, reason, stage, source string) error {
	e := &hotdesk.AuditEvent{Time: s.now(), Kind: hotdesk.KindLoginFailed, Extension: ext, Device: device,
		Reason: reason, Source: source, Detail: stage}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		return unavailable("audit abandoned login", err)
	}
	s.publish(e)
	return nil
}
