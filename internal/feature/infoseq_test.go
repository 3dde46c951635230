package feature

import (
	"sync"
	"testing"
	"time"
)

type keyLog struct {
	mu   sync.Mutex
	keys string
}

func (k *keyLog) add(r rune) { k.mu.Lock(); k.keys += string(r); k.mu.Unlock() }
func (k *keyLog) get() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys
}

func TestInfoOrder(t *testing.T) {
	type req struct {
		cseq uint32
		key  rune // 0: a request without a key (re-INVITE, OPTIONS)
		ok   bool
	}
	tests := []struct {
		name   string
		invite uint32
		reqs   []req
		want   string // keys applied at once
		later  string // keys applied once the hold expired
	}{
		{"in order", 2, []req{{3, '1', true}, {4, '2', true}, {5, '#', true}}, "12#", "12#"},
		{"overtaken", 2, []req{{4, '2', true}, {3, '1', true}, {6, '#', true}, {5, '3', true}}, "123#", "123#"},
		{"reversed", 2, []req{{7, '#', true}, {6, '4', true}, {5, '3', true}, {4, '2', true}, {3, '1', true}}, "1234#", "1234#"},
		{"duplicate", 2, []req{{3, '1', true}, {3, '1', false}, {4, '2', true}, {3, '1', false}}, "12", "12"},
		{"duplicate held", 2, []req{{4, '2', true}, {4, '2', false}, {3, '1', true}}, "12", "12"},
		{"other request fills the gap", 2, []req{{5, '2', true}, {3, '1', true}, {4, 0, true}}, "12", "12"},
		{"gap never filled", 2, []req{{3, '1', true}, {5, '3', true}, {6, '#', true}}, "1", "13#"},
		{"late after the hold", 2, []req{{4, '2', true}, {5, '#', true}}, "", "2#"},
		{"first number unknown", 0, []req{{40, '5', true}, {41, '6', true}}, "56", "56"},
		{"numbering below the INVITE", 10, []req{{3, '1', false}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got keyLog
			o := newInfoOrder(tt.invite, got.add)
			o.hold = time.Hour // expired by hand below
			defer o.stop()
			for _, r := range tt.reqs {
				if ok := o.note(r.cseq, r.key); ok != r.ok {
					t.Errorf("note(%d, %q) = %t, want %t", r.cseq, r.key, ok, r.ok)
				}
			}
			if k := got.get(); k != tt.want {
				t.Errorf("applied %q at once, want %q", k, tt.want)
			}
			o.flush()
			if k := got.get(); k != tt.later {
				t.Errorf("applied %q after the hold, want %q", k, tt.later)
			}
		})
	}
}

func TestInfoOrderLateKeyDropped(t *testing.T) {
	var got keyLog
	o := newInfoOrder(2, got.add)
	o.hold = time.Hour
	defer o.stop()
	o.note(4, '2')
	o.flush() // 3 given up
	if o.note(3, '1') {
		t.Error("a key older than keys already applied was accepted")
	}
	o.note(5, '#')
	if k := got.get(); k != "2#" {
		t.Errorf("applied %q, want 2#", k)
	}
}

// TestInfoOrderHoldExpires: a held key is applied when the hold runs out.
func TestInfoOrderHoldExpires(t *testing.T) {
	var got keyLog
	o := newInfoOrder(2, got.add)
	o.hold = 20 * time.Millisecond
	defer o.stop()
	o.note(4, '2')
	if k := got.get(); k != "" {
		t.Fatalf("applied %q before the hold ran out", k)
	}
	for deadline := time.Now().Add(5 * time.Second); got.get() == ""; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("held key never applied")
		}
	}
	if k := got.get(); k != "2" {
		t.Errorf("applied %q, want 2", k)
	}
}

func TestInfoOrderBoundsHeld(t *testing.T) {
	var got keyLog
	o := newInfoOrder(2, got.add)
	o.hold = time.Hour
	defer o.stop()
	for i := range uint32(infoMaxHeld) {
		o.note(10+i, '1')
	}
	if k := got.get(); len(k) != infoMaxHeld {
		t.Errorf("%d keys applied, want the %d held flushed at the bound", len(k), infoMaxHeld)
	}
}
