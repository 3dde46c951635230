package app

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// Issue 11 item 3: one phone could take every RTP port with unanswered or
// held feature-code calls. At the call entry a device gets
// Limits.CallsPerDevice (default 4) calls at once; the 5th gets 486, other
// phones are unaffected, and a slot is free again when a call ends.
func TestServeCallLimitPerDevice(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	hd1, hd2 := demoPhone(t, r, "HD00001"), demoPhone(t, r, "HD00002")
	var calls []*siptest.Call
	for i := range 4 {
		c, err := hd1.Dial("*35") // neutral: answered, prompts for the extension
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		calls = append(calls, c)
	}
	if _, err := hd1.Dial("*35"); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("5th concurrent call from one phone: %v, want 486", err)
	}
	other, err := hd2.Dial("*35")
	if err != nil {
		t.Fatalf("another phone: %v", err)
	}
	if err := calls[0].Hangup(); err != nil {
		t.Fatal(err)
	}
	// The slot is freed when the PBX's handler ends, just after the BYE.
	var again *siptest.Call
	deadline := time.Now().Add(3 * time.Second)
	for again == nil && time.Now().Before(deadline) {
		if again, err = hd1.Dial("*35"); err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if again == nil {
		t.Fatalf("after one call ended: %v", err)
	}
	for _, c := range append(calls[1:], other, again) {
		c.Hangup()
	}
}

func TestDeviceCallsAcquireRelease(t *testing.T) {
	d := newDeviceCalls()
	var rels []func()
	for range 3 {
		rel, ok := d.acquire("HD00001", 3)
		if !ok {
			t.Fatal("refused below the limit")
		}
		rels = append(rels, rel)
	}
	if _, ok := d.acquire("HD00001", 3); ok {
		t.Fatal("4th admitted with limit 3")
	}
	if _, ok := d.acquire("HD00002", 3); !ok {
		t.Fatal("another device refused")
	}
	rels[0]()
	rels[0]() // releasing twice frees one slot only
	if _, ok := d.acquire("HD00001", 3); !ok {
		t.Fatal("slot not freed")
	}
	if _, ok := d.acquire("HD00001", 3); ok {
		t.Fatal("double release freed two slots")
	}
	// Concurrent acquires never exceed the limit.
	d = newDeviceCalls()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 50 {
		wg.Go(func() {
			if _, ok := d.acquire("HD00009", 4); ok {
				mu.Lock()
				got++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got != 4 {
		t.Fatalf("%d of 50 concurrent calls admitted, want 4", got)
	}
}

// The same limit holds for calls through the B2BUA (the entry is shared):
// 201 at HD00001 holds 4 answered calls to 202, the 5th gets 486, and an
// emergency-number call is never refused by it.
func TestServeCallLimitCoversB2BUACalls(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	hd1, hd2 := demoPhone(t, r, "HD00001"), demoPhone(t, r, "HD00002")
	loginByPhone(t, hd1, "*35*201*1234")
	loginByPhone(t, hd2, "*35*202*1234")
	go func() {
		for range 4 {
			in, err := hd2.WaitIncoming(10 * time.Second)
			if err != nil {
				return
			}
			in.Answer()
		}
	}()
	var calls []*siptest.Call
	for i := range 4 {
		c, err := hd1.Dial("202")
		if err != nil {
			t.Fatalf("call %d to 202: %v", i+1, err)
		}
		calls = append(calls, c)
	}
	if _, err := hd1.Dial("202"); err == nil || !strings.Contains(err.Error(), "486") {
		t.Fatalf("5th call: %v, want 486", err)
	}
	if _, err := hd1.Dial("112"); err != nil && strings.Contains(err.Error(), "486") {
		t.Fatalf("emergency call refused by the call limit: %v", err)
	}
	for _, c := range calls {
		c.Hangup()
	}
}
