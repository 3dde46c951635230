package voicemail

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
)

type noPIN struct{}

func (noPIN) VerifyPIN(context.Context, string, string, string, string) error { return nil }

func mustService(t *testing.T) (*Service, hotdesk.Store) {
	t.Helper()
	st := sqlitetest.MustOpen(t)
	if err := st.CreateUser(context.Background(), &hotdesk.User{Extension: "202", Voicemail: true}); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: st, PIN: noPIN{}, SpoolDir: filepath.Join(t.TempDir(), "spool"),
		Settings: func(context.Context) hotdesk.Settings { return hotdesk.DefaultSettings() },
		Prompts:  func(lang string) (*prompts.Set, error) { return prompts.New(lang, "") }})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// spoolFile writes NAME.json for ext and NAME.raw of voice then silence,
// as a crash leaves them.
func spoolFile(t *testing.T, s *Service, name, ext string, voice, quiet time.Duration) {
	t.Helper()
	meta, _ := json.Marshal(spoolMeta{Extension: ext, Caller: "0612345678", Codec: "PCMU", ReceivedAt: time.Unix(1800000000, 0).UTC()})
	raw := g711.EncodeUlaw(nil, append(mediatest.Tone(440, voice), make([]int16, int(quiet*8000/time.Second))...))
	if err := os.WriteFile(filepath.Join(s.o.SpoolDir, name+".json"), meta, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.o.SpoolDir, name+".raw"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Recover turns what a crash left in the spool into messages (voice plus
// the short tail, silence after it trimmed), drops what is too short or
// whose user is gone, removes torn files, and leaves the spool empty; a
// file being recorded now is left alone.
func TestRecoverSpool(t *testing.T) {
	s, st := mustService(t)
	ctx := context.Background()
	spoolFile(t, s, "a", "202", 2*time.Second, 3*time.Second)
	spoolFile(t, s, "short", "202", 500*time.Millisecond, time.Second)
	spoolFile(t, s, "gone", "299", 2*time.Second, 0)
	spoolFile(t, s, "busy", "202", 2*time.Second, 0)
	if err := os.WriteFile(filepath.Join(s.o.SpoolDir, "torn.json"), []byte(`{"exten`), 0o600); err != nil {
		t.Fatal(err)
	}
	s.setActive("busy", true)
	n, err := s.Recover(ctx)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v; want 1", n, err)
	}
	list, err := st.ListVoicemail(ctx, "202")
	if err != nil || len(list) != 1 {
		t.Fatalf("mailbox %v %v", list, err)
	}
	v := list[0]
	if v.DurationMS != 2500 || v.Caller != "0612345678" || !v.New || !v.ReceivedAt.Equal(time.Unix(1800000000, 0)) {
		t.Fatalf("message %+v", v)
	}
	entries, _ := os.ReadDir(s.o.SpoolDir)
	if len(entries) != 2 { // busy.json and busy.raw
		t.Fatalf("spool after recovery: %v", entries)
	}
	audits, err := st.FindAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindVoicemail}})
	if err != nil || len(audits) != 1 || audits[0].Source != "spool" || audits[0].Detail != "id=1 new=1 old=0" {
		t.Fatalf("audit %+v %v", audits, err)
	}
}
