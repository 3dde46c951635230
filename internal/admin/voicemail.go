package admin

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hotdesk-pbx/hotdesk"
)

// reVMCode is a mailbox feature code: * and 1 to 4 digits.
var reVMCode = regexp.MustCompile(`^\*[0-9]{1,4}$`)

// Bounds of the voicemail settings (0 means the default).
const (
	maxVoicemailSeconds = 3600
	maxSilenceSeconds   = 60
	maxVoicemailQuota   = 10000
)

// voicemailErrors checks the mailbox codes (empty: the defaults *97 and
// *98) and the voicemail settings, naming fields by their JSON path.
func voicemailErrors(st hotdesk.Settings) []error {
	var errs []error
	fc := st.FeatureCodes
	own, any := fc.VoicemailCodes()
	for _, c := range []struct{ name, v string }{{"voicemail", fc.Voicemail}, {"voicemail_any", fc.VoicemailAny}} {
		if c.v != "" && !reVMCode.MatchString(c.v) {
			errs = append(errs, hotdesk.Invalidf("feature_codes."+c.name, "A feature code is * followed by 1 to 4 digits, like *97."))
		}
	}
	if own == any {
		errs = append(errs, hotdesk.Invalidf("feature_codes.voicemail_any", "The two voicemail codes must differ."))
	}
	for _, c := range []string{own, any} {
		if c == fc.Star35 || c == fc.Star77 {
			errs = append(errs, hotdesk.Invalidf("feature_codes.voicemail", "The voicemail codes must differ from the login codes."))
			break
		}
	}
	v := st.Voicemail
	for _, f := range []struct {
		name, what string
		v, max     int
	}{{"max_seconds", "The longest message", v.MaxSeconds, maxVoicemailSeconds},
		{"silence_seconds", "The silence that ends a message", v.SilenceSeconds, maxSilenceSeconds},
		{"quota", "The mailbox size", v.Quota, maxVoicemailQuota}} {
		if f.v < 0 || f.v > f.max {
			errs = append(errs, hotdesk.Invalidf("voicemail."+f.name, "%s must be 1 to %d (0 for the default).", f.what, f.max))
		}
	}
	return errs
}

// mailboxCounter is the part of a store that counts a mailbox (every
// hotdesk.Store; test stores may lack it).
type mailboxCounter interface {
	VoicemailCounts(ctx context.Context, ext string) (newCount, oldCount int, err error)
}

// mailboxSize counts ext's messages before the user is deleted (-1 when
// unknown).
func (s *Service) mailboxSize(ctx context.Context, ext string) int {
	mc, ok := s.store.(mailboxCounter)
	if !ok {
		return -1
	}
	n, o, err := mc.VoicemailCounts(ctx, ext)
	if err != nil {
		s.log.Warn("admin: count mailbox of deleted user", "extension", ext, "err", err)
		return -1
	}
	return n + o
}

// auditMailboxDeleted records that the store deleted ext's messages and
// greeting with the user, as a voicemail event whose counts are zero, so
// message-waiting lights of the user go dark.
func (s *Service) auditMailboxDeleted(ctx context.Context, source, ext string, messages int) {
	if messages < 0 {
		return
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindVoicemail, Extension: ext, Reason: hotdesk.VoicemailDeleted,
		Detail: fmt.Sprintf("id=0 new=0 old=0 mailbox deleted with the user (%d messages)", messages)})
}
