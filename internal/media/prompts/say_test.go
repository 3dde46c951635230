package prompts

import (
	"slices"
	"testing"
)

// Say lays the prompts end to end with Gap samples of silence between
// them, in order, skipping unknown names (also at the start).
func TestSayLayout(t *testing.T) {
	s, err := New("en", "")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Get(LoggedInAs)
	b, _ := s.Get("digit_7")
	want := slices.Concat(a, make([]int16, Gap), b)
	if got := s.Say("unknown", LoggedInAs, "unknown", "digit_7"); !slices.Equal(got, want) {
		t.Fatalf("Say: %d samples, want %d laid out as prompt, gap, prompt", len(got), len(want))
	}
	if got := s.Say("unknown"); got != nil {
		t.Fatalf("Say of nothing known = %d samples", len(got))
	}
}

// BenchmarkSay is the confirmation of a login ("logged in as" and four
// digits), which every feature-code login builds.
func BenchmarkSay(b *testing.B) {
	s, err := New("en", "")
	if err != nil {
		b.Fatal(err)
	}
	names := append([]string{LoggedInAs}, DigitNames("2014")...)
	b.ReportAllocs()
	for b.Loop() {
		s.Say(names...)
	}
}
