package b2bua

import (
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// After a batch the recorder waits (pace) before the next one, so the
// records put meanwhile share a batch, and a record's start and answer put
// within the pace are one INSERT; the first record after a quiet spell is
// written at once.
func TestRecorderPaces(t *testing.T) {
	st := newRecStore()
	r := newRecorder(st, quiet())
	r.pace = 2 * time.Second // far longer than the puts below take, even on a busy machine
	runInBackground(t, r.run, r.isRunning)

	var first recSlot
	done1 := make(chan struct{})
	t0 := time.Now()
	r.put(&first, &hotdesk.CallRecord{CallID: "c1", Extension: "201", Result: hotdesk.ResultFailed}, done1)
	wait(t, done1, "c1")
	if d := time.Since(t0); d > time.Second {
		t.Errorf("the first record took %v, want it written at once", d)
	}

	// Within the pace: a call's start and its answer, and another call.
	var a, b recSlot
	recA := hotdesk.CallRecord{CallID: "c2", Extension: "202", Result: hotdesk.ResultFailed}
	r.put(&a, &recA, nil)
	time.Sleep(20 * time.Millisecond) // the writer is awake and could write at once
	answer := time.Unix(1800000000, 0)
	recA.Answer, recA.Result = &answer, hotdesk.ResultAnswered
	r.put(&a, &recA, nil)
	doneB := make(chan struct{})
	r.put(&b, &hotdesk.CallRecord{CallID: "c3", Extension: "203", Result: hotdesk.ResultFailed}, doneB)
	wait(t, doneB, "c3")

	st.mu.Lock()
	batches := st.batches
	st.mu.Unlock()
	if len(batches) != 2 || len(batches[1]) != 2 {
		t.Fatalf("batches %+v, want c1, then c2 and c3 together", batches)
	}
	if got := batches[1][0]; got.CallID != "c2" || got.ID != 0 || got.Answer == nil || got.Result != hotdesk.ResultAnswered {
		t.Errorf("c2 written as %+v, want one insert with its answer", got)
	}
	if a.id == 0 || st.row(a.id).Answer == nil {
		t.Errorf("c2's row %d: %+v", a.id, st.row(a.id))
	}
}
