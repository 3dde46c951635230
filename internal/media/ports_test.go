package media

import (
	"errors"
	"testing"
)

func TestPortPool(t *testing.T) {
	p := NewPortPool(10001, 10006) // even ports 10002, 10004, 10006
	if p.Size() != 3 {
		t.Fatalf("size %d", p.Size())
	}
	var got []int
	for range 3 {
		port, err := p.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, port)
	}
	if got[0] != 10002 || got[1] != 10004 || got[2] != 10006 {
		t.Fatalf("ports %v", got)
	}
	if _, err := p.Acquire(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("exhausted pool: %v", err)
	}
	p.Release(10004)
	p.Release(10004) // twice is harmless
	if port, err := p.Acquire(); err != nil || port != 10004 {
		t.Fatalf("after release: %d, %v", port, err)
	}
	p.Release(10002)
	p.Release(10006)
	// Round-robin: the search goes on after the last port handed out.
	if port, _ := p.Acquire(); port != 10006 {
		t.Fatalf("round robin gave %d", port)
	}
	if p.InUse() != 2 {
		t.Fatalf("in use %d", p.InUse())
	}
	if _, err := NewPortPool(10001, 10001).Acquire(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("empty pool: %v", err)
	}
	if port, err := NewPortPool(0, 0).Acquire(); err != nil || port != 0 {
		t.Fatalf("ephemeral pool: %d, %v", port, err)
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in        string
		low, high int
		ok        bool
	}{
		{"10000-20000", 10000, 20000, true},
		{" 16384-32767 ", 16384, 32767, true},
		{"10000", 0, 0, false},
		{"a-b", 0, 0, false},
		{"10000-x", 0, 0, false},
		{"20000-10000", 0, 0, false},
		{"80-1000", 0, 0, false},
		{"10000-70000", 0, 0, false},
		{"10000-10000", 0, 0, false},
	}
	for _, tt := range tests {
		low, high, err := ParseRange(tt.in)
		if (err == nil) != tt.ok || low != tt.low || high != tt.high {
			t.Errorf("ParseRange(%q) = %d, %d, %v", tt.in, low, high, err)
		}
	}
}
