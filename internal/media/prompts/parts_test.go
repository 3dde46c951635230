package prompts

import (
	"slices"
	"testing"
)

// Parts are Say's prompts in order, unknown names skipped, the shared
// samples themselves (not copies), appended to dst without allocating
// when it has room.
func TestParts(t *testing.T) {
	s, err := New("en", "")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"unknown", LoggedInAs, "digit_2", "unknown", "digit_0"}
	parts := s.Parts(nil, names...)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	for i, name := range []string{LoggedInAs, "digit_2", "digit_0"} {
		pcm, _ := s.Get(name)
		if len(parts[i]) == 0 || &parts[i][0] != &pcm[0] || len(parts[i]) != len(pcm) {
			t.Fatalf("part %d is not the samples of %s", i, name)
		}
	}
	var joined []int16
	for i, p := range parts {
		if i > 0 {
			joined = append(joined, make([]int16, Gap)...)
		}
		joined = append(joined, p...)
	}
	if !slices.Equal(joined, s.Say(names...)) {
		t.Fatal("parts joined with gaps are not Say's audio")
	}
	dst := make([][]int16, 0, 8)
	if n := testing.AllocsPerRun(20, func() { dst = s.Parts(dst[:0], names...) }); n != 0 {
		t.Fatalf("Parts into a slice with room: %v allocations", n)
	}
}
