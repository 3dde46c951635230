package sipnotify

import (
	"slices"
	"testing"
)

func TestIndex(t *testing.T) {
	var x Index[int]
	if x.Len("a") != 0 || len(slices.Collect(x.All("a"))) != 0 {
		t.Fatal("zero Index not empty")
	}
	x.Add("a", 1)
	x.Add("a", 2)
	x.Add("a", 2) // a set: once
	x.Add("b", 3)
	if got := slices.Sorted(x.All("a")); !slices.Equal(got, []int{1, 2}) || x.Len("a") != 2 || x.Len("b") != 1 {
		t.Fatalf("a: %v, b: %d", got, x.Len("b"))
	}
	x.Remove("a", 1)
	x.Remove("a", 9) // not there: nothing
	x.Remove("c", 1) // no such key: nothing
	if got := slices.Collect(x.All("a")); !slices.Equal(got, []int{2}) {
		t.Fatalf("a after a remove: %v", got)
	}
	x.Remove("a", 2)
	if x.Len("a") != 0 || x.m["a"] != nil || x.Len("b") != 1 {
		t.Fatalf("the last remove leaves a key: %v", x.m)
	}
}
