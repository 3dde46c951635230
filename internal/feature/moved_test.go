package feature

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// A login at a phone that seems to have moved (Options.Moved) ends with
// the warning prompt; elsewhere, and for failed logins, it does not.
func TestLoginAtMovedPhoneWarns(t *testing.T) {
	fc := hotdesk.DefaultSettings().FeatureCodes
	for _, tt := range []struct {
		dialled string
		moved   bool
		want    string
	}{
		{"*35*201*1234", true, "logged_in_as+digit_2+digit_0+digit_1+phone_moved"},
		{"*35*201*1234", false, "logged_in_as+digit_2+digit_0+digit_1"},
		{"*35*201*9999", true, "incorrect_pin"},
	} {
		r := newFakeRules()
		io := &scriptIO{}
		var asked string
		f := &flow{rules: r, io: io, dev: &hotdesk.Device{ID: "HD1", Mode: hotdesk.ModeHotdesk}, source: "10.9.0.1:5060", now: time.Now,
			moved: func(_ context.Context, dev *hotdesk.Device, source string) bool {
				asked = dev.ID + " " + source
				return tt.moved
			}}
		code, _ := Parse(tt.dialled, fc)
		_ = f.run(context.Background(), code)
		if len(io.played) == 0 || io.played[len(io.played)-1] != tt.want {
			t.Errorf("%s moved=%v: played %q, want last %q", tt.dialled, tt.moved, io.played, tt.want)
		}
		if tt.want != "incorrect_pin" && asked != "HD1 10.9.0.1:5060" {
			t.Errorf("Moved asked about %q", asked)
		}
	}
}
