package admin

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestUserCheck(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		name   string
		in     UserInput
		create bool
		field  string
	}{
		{"ok", UserInput{Extension: s("201"), Name: s("A")}, true, ""},
		{"no extension", UserInput{Name: s("A")}, true, "extension"},
		{"short extension", UserInput{Extension: s("2"), Name: s("A")}, true, "extension"},
		{"long extension", UserInput{Extension: s("1234567"), Name: s("A")}, true, "extension"},
		{"no name on create", UserInput{Extension: s("201")}, true, "name"},
		{"blank name", UserInput{Extension: s("201"), Name: s("  ")}, true, "name"},
		{"patch without name", UserInput{Voicemail: new(bool)}, false, ""},
		{"email", UserInput{Email: s("a@b")}, false, ""},
		{"bad email", UserInput{Email: s("Fien <f@x.nl>")}, false, "email"},
		{"pin letters", UserInput{PIN: s("12a4")}, false, "pin"},
		{"pin long", UserInput{PIN: s("123456789")}, false, "pin"},
		{"pin 8", UserInput{PIN: s("12345678")}, false, ""},
		{"e164 short", UserInput{CallerID: s("+3120123")}, false, "caller_id"},
		{"e164 8 digits", UserInput{CallerID: s("+31201234")}, false, ""},
		{"e164 15 digits", UserInput{CallerID: s("+312012345678901")}, false, ""},
		{"e164 16 digits", UserInput{CallerID: s("+3120123456789012")}, false, "caller_id"},
		{"e164 no plus", UserInput{CallerID: s("31201234567")}, false, "caller_id"},
		{"empty caller id", UserInput{CallerID: s("")}, false, ""},
		{"dup dids", UserInput{DIDs: &[]string{"+31201234567", "+31201234567"}}, false, "dids"},
		{"outbound", UserInput{Outbound: s("local")}, false, "outbound"},
		{"blf", UserInput{BLF: &[]string{"201", "abc"}}, false, "blf"},
		{"speed dial", UserInput{SpeedDials: &[]hotdesk.SpeedDial{{Label: "x", Number: "12 34"}}}, false, "speed_dials"},
		{"every error, the first named", UserInput{Email: s("x"), Outbound: s("y")}, false, "email"},
	} {
		err := c.in.check(c.create)
		if hotdesk.ErrorField(err) != c.field || (c.field == "") != (err == nil) {
			t.Errorf("%s: %v, want field %q", c.name, err, c.field)
		}
		if c.name == "every error, the first named" && len(Fields(err)) != 2 {
			t.Errorf("%s: %v, want 2 field errors", c.name, Fields(err))
		}
	}
}

func TestSettingsDefaultsValid(t *testing.T) {
	s := New(Options{Store: settingsStore{}})
	if _, err := s.PutSettings(t.Context(), "test", hotdesk.DefaultSettings()); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

// settingsStore takes any settings and audit; nothing else is called.
type settingsStore struct{ Store }

func (settingsStore) PutSettings(context.Context, hotdesk.Settings) error    { return nil }
func (settingsStore) AppendAudit(context.Context, *hotdesk.AuditEvent) error { return nil }
