package console

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

type settingsData struct {
	Form            *form
	HasPassword     bool
	HasMailPassword bool
}

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request) error {
	s, err := c.store.GetSettings(r.Context())
	if err != nil {
		return fmt.Errorf("get settings: %w", err)
	}
	c.render(w, r, http.StatusOK, "settings", settingsData{Form: settingsForm(s), HasPassword: s.Trunk.Password != "",
		HasMailPassword: s.Mail.Password != ""})
	return nil
}

// settingsForm fills the form from s; the trunk password is never echoed.
func settingsForm(s hotdesk.Settings) *form {
	fc, al, t := s.FeatureCodes, s.AutoLogout, s.Trunk
	f := newForm(url.Values{
		"star35_enabled": {onOff(fc.Star35Enabled)}, "star35": {fc.Star35},
		"star77_enabled": {onOff(fc.Star77Enabled)}, "star77": {fc.Star77}, "logout77": {fc.Logout77},
		"emergency": {strings.Join(s.Emergency, ", ")},
		"daily_at":  {al.DailyAt}, "max_duration": {al.MaxDuration}, "idle_timeout": {al.IdleTimeout},
		"lost_registration": {al.LostRegistration},
		"lang":              {s.Lang}, "timezone": {s.Timezone}, "national_prefix": {s.NationalPrefix},
		"international_prefix": {s.InternationalPrefix}, "country_code": {s.CountryCode},
		"trunk_enabled": {onOff(t.Enabled)}, "trunk_proxy": {t.Proxy}, "trunk_register": {onOff(t.Register)},
		"trunk_username": {t.Username}, "trunk_realm": {t.Realm}, "trunk_domain": {t.Domain},
		"trunk_sources": {strings.Join(t.Sources, ", ")}, "trunk_transport": {cmp.Or(t.Transport, "udp")},
		"calls_per_device": {strconv.Itoa(s.Limits.CallsPerDevice)}, "subscriptions_per_device": {strconv.Itoa(s.Limits.SubscriptionsPerDevice)},
		"subscriptions_per_extension": {strconv.Itoa(s.Limits.SubscriptionsPerExtension)},
		"phone_transport":             {s.TLS.PhoneTransport}, "trunk_fingerprint": {s.TLS.TrunkFingerprint},
	})
	f.Values.Set("first_digit_seconds", strconv.Itoa(s.Prompts.FirstDigitSeconds))
	f.Values.Set("inter_digit_seconds", strconv.Itoa(s.Prompts.InterDigitSeconds))
	mailFormValues(f, s.Mail)
	emergencyFormValues(f, s.EmergencyAlerts)
	return f
}

func (c *Console) settingsSave(w http.ResponseWriter, r *http.Request) error {
	cur, err := c.store.GetSettings(r.Context())
	if err != nil {
		return fmt.Errorf("get settings: %w", err)
	}
	f := newForm(r.PostForm)
	s := settingsFromForm(f, cur)
	if _, err := saveForm(f, settingsField, func() (hotdesk.Settings, error) { return c.admin.PutSettings(r.Context(), source(r), s) }); err != nil {
		return err
	}
	if !f.Valid() {
		f.Values.Del("trunk_password")
		f.Values.Del("mail_password")
		c.render(w, r, http.StatusBadRequest, "settings", settingsData{Form: f, HasPassword: cur.Trunk.Password != "",
			HasMailPassword: cur.Mail.Password != ""})
		return nil
	}
	return redirect(w, r, "/settings?flash="+url.QueryEscape("Settings saved."))
}
