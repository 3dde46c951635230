package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// PutSettings validates the site settings (every bad field, named by its
// JSON path) and stores them; the settings_changed event also tells the
// desk Service to drop its cache.
func (s *Service) PutSettings(ctx context.Context, source string, st hotdesk.Settings) (hotdesk.Settings, error) {
	trim(&st.FeatureCodes.Star35, &st.FeatureCodes.Star77, &st.FeatureCodes.Logout77, &st.Timezone, &st.Trunk.Proxy)
	st.Lang = strings.ToLower(strings.TrimSpace(st.Lang))
	errs := validate.FeatureCodes("feature_codes.", st.FeatureCodes)
	errs = append(errs, validate.Emergency("emergency_numbers", st.Emergency))
	errs = append(errs, validate.AutoLogout("auto_logout.", st.AutoLogout)...)
	errs = append(errs, validate.Lang("lang", st.Lang), validate.Timezone("timezone", st.Timezone),
		validate.Digits("national_prefix", st.NationalPrefix), validate.Digits("international_prefix", st.InternationalPrefix),
		validate.Digits("country_code", st.CountryCode))
	errs = append(errs, validate.Trunk("trunk.", st.Trunk)...)
	errs = append(errs, validate.Prompts("prompts.", st.Prompts)...)
	errs = append(errs, validate.Limits("limits.", st.Limits)...)
	errs = append(errs, mailErrors(&st.Mail)...)
	errs = append(errs, voicemailErrors(st)...)
	errs = append(errs, validate.TLS("tls.", st.TLS)...)
	if err := collect(errs...); err != nil {
		return st, err
	}
	if err := s.store.PutSettings(ctx, st); err != nil {
		return st, fmt.Errorf("save settings: %w", err)
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings})
	return st, nil
}
