package admin

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// PUT /settings names each bad voicemail field; zero values (a client
// that does not know them) are the defaults.
func TestVoicemailSettings(t *testing.T) {
	s := New(Options{Store: settingsStore{}})
	for _, c := range []struct {
		name  string
		edit  func(st *hotdesk.Settings)
		field string
	}{
		{"defaults", func(*hotdesk.Settings) {}, ""},
		{"zeros mean defaults", func(st *hotdesk.Settings) {
			st.Voicemail = hotdesk.VoicemailSettings{}
			st.FeatureCodes.Voicemail, st.FeatureCodes.VoicemailAny = "", ""
		}, ""},
		{"own code", func(st *hotdesk.Settings) { st.FeatureCodes.Voicemail = "97" }, "feature_codes.voicemail"},
		{"any code", func(st *hotdesk.Settings) { st.FeatureCodes.VoicemailAny = "*9a" }, "feature_codes.voicemail_any"},
		{"same codes", func(st *hotdesk.Settings) { st.FeatureCodes.VoicemailAny = "*97" }, "feature_codes.voicemail_any"},
		{"default any equals own", func(st *hotdesk.Settings) { st.FeatureCodes.Voicemail, st.FeatureCodes.VoicemailAny = "*98", "" }, "feature_codes.voicemail_any"},
		{"login code", func(st *hotdesk.Settings) { st.FeatureCodes.Voicemail = "*35" }, "feature_codes.voicemail"},
		{"max", func(st *hotdesk.Settings) { st.Voicemail.MaxSeconds = 3601 }, "voicemail.max_seconds"},
		{"silence", func(st *hotdesk.Settings) { st.Voicemail.SilenceSeconds = -1 }, "voicemail.silence_seconds"},
		{"quota", func(st *hotdesk.Settings) { st.Voicemail.Quota = 10001 }, "voicemail.quota"},
	} {
		st := hotdesk.DefaultSettings()
		c.edit(&st)
		_, err := s.PutSettings(t.Context(), "test", st)
		if hotdesk.ErrorField(err) != c.field || (c.field == "") != (err == nil) {
			t.Errorf("%s: %v, want field %q", c.name, err, c.field)
		}
	}
	got := hotdesk.VoicemailSettings{}.WithDefaults()
	if got != (hotdesk.VoicemailSettings{MaxSeconds: 180, SilenceSeconds: 5, Quota: 100}) {
		t.Errorf("defaults %+v", got)
	}
}
