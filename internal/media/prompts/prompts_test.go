package prompts

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
)

func duration(pcm []int16) time.Duration { return time.Duration(len(pcm)) * time.Second / 8000 }

func rms(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(1, len(pcm))))
}

// Every prompt exists in every language, is speech (not silence) and has a
// plausible length.
func TestEveryPromptEveryLanguage(t *testing.T) {
	for _, lang := range Languages {
		s, err := New(lang, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range Names {
			pcm, err := s.Get(name)
			if err != nil {
				t.Fatalf("%s/%s: %v", lang, name, err)
			}
			d := duration(pcm)
			lo, hi := 400*time.Millisecond, 10*time.Second // the voicemail menus are long
			if strings.HasPrefix(name, "digit_") || strings.HasPrefix(name, "num_") || strings.HasPrefix(name, "month_") ||
				name == VMAnd || name == VMAt {
				lo, hi = 150*time.Millisecond, 1500*time.Millisecond
			}
			if d < lo || d > hi {
				t.Errorf("%s/%s: %v long, want %v..%v", lang, name, d, lo, hi)
			}
			if r := rms(pcm); r < 1000 {
				t.Errorf("%s/%s: RMS %.0f, too quiet", lang, name, r)
			}
		}
	}
}

// No stray WAVs: every embedded file is a known prompt.
func TestNoUnknownEmbeddedFiles(t *testing.T) {
	for _, lang := range Languages {
		entries, err := embedded.ReadDir(lang)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(Names) {
			t.Errorf("%s: %d files, want %d", lang, len(entries), len(Names))
		}
		for _, e := range entries {
			if name := e.Name()[:len(e.Name())-4]; !slices.Contains(Names, name) {
				t.Errorf("%s: unexpected %s", lang, e.Name())
			}
		}
	}
}

func TestUnknown(t *testing.T) {
	if _, err := New("de", ""); !errors.Is(err, ErrUnknownLanguage) {
		t.Fatalf("lang: %v", err)
	}
	s, err := New("en", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrUnknownPrompt) {
		t.Fatalf("name: %v", err)
	}
}

func TestSay(t *testing.T) {
	s, err := New("en", "")
	if err != nil {
		t.Fatal(err)
	}
	names := append([]string{LoggedInAs}, DigitNames("2#01")...)
	if !slices.Equal(names[1:], []string{"digit_2", "digit_0", "digit_1"}) {
		t.Fatalf("DigitNames: %v", names)
	}
	want := 3 * Gap
	for _, n := range names {
		pcm, _ := s.Get(n)
		want += len(pcm)
	}
	if got := s.Say(append(names, "unknown")...); len(got) != want {
		t.Fatalf("Say: %d samples, want %d", len(got), want)
	}
	if len(s.Say()) != 0 {
		t.Fatal("Say() not empty")
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "nl", Goodbye+".wav"), wav.Encode(make([]int16, 800)))
	s, err := New("nl", dir)
	if err != nil {
		t.Fatal(err)
	}
	if pcm, _ := s.Get(Goodbye); len(pcm) != 800 {
		t.Fatalf("override not used: %d samples", len(pcm))
	}
	if pcm, _ := s.Get(LoggedOut); len(pcm) < 1000 {
		t.Fatal("other prompts should stay built in")
	}
	// The English set does not see Dutch overrides.
	en, err := New("en", dir)
	if err != nil {
		t.Fatal(err)
	}
	if pcm, _ := en.Get(Goodbye); len(pcm) == 800 {
		t.Fatal("nl override leaked into en")
	}
	// Reload picks up a new file; a bad one is an error naming it and
	// leaves the set as it was.
	mustWrite(t, filepath.Join(dir, "nl", Locked+".wav"), wav.Encode(make([]int16, 400)))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if pcm, _ := s.Get(Locked); len(pcm) != 400 {
		t.Fatalf("reload: %d samples", len(pcm))
	}
	bad := filepath.Join(dir, "nl", EnterPIN+".wav")
	mustWrite(t, bad, []byte("RIFF\x00\x00\x00\x00WAVE"))
	if err := s.Reload(); !errors.Is(err, wav.ErrMalformed) {
		t.Fatalf("bad override: %v", err)
	}
	if pcm, _ := s.Get(Locked); len(pcm) != 400 {
		t.Fatal("failed reload changed the set")
	}
	if _, err := New("nl", dir); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("New with bad override: %v", err)
	}
}

func mustWrite(tb testing.TB, path string, b []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}
