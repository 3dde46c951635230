package events

import (
	"testing"
	"time"
)

func TestBusDeliversInOrderAndDropsForSlowSubscribers(t *testing.T) {
	b := New()
	fast, cancelFast := b.Subscribe(10)
	defer cancelFast()
	slow, cancelSlow := b.Subscribe(1)
	for i := 0; i < 3; i++ {
		b.Publish(Event{Kind: "login"})
	}
	for want := int64(1); want <= 3; want++ {
		select {
		case e := <-fast:
			if e.Seq != want || e.Time.IsZero() {
				t.Fatalf("got seq %d time %v, want seq %d", e.Seq, e.Time, want)
			}
		case <-time.After(time.Second):
			t.Fatal("event not delivered")
		}
	}
	if e := <-slow; e.Seq != 1 {
		t.Fatalf("slow subscriber got seq %d, want 1", e.Seq)
	}
	cancelSlow()
	if _, ok := <-slow; ok {
		t.Fatal("channel not closed after cancel")
	}
	cancelSlow() // idempotent
	b.Publish(Event{Kind: "logout"})
}

func TestRemoteIsMarkedByNode(t *testing.T) {
	if (Event{Kind: "login"}).Remote() {
		t.Fatal("an event without Node is local")
	}
	if !(Event{Kind: "login", Node: "b"}).Remote() {
		t.Fatal("an event with Node is remote")
	}
}

func TestLogged(t *testing.T) {
	for kind, want := range map[string]bool{
		"login": true, "logout": true, "registered": true, "settings_changed": true,
		KindCallTrying: false, KindCallTerminated: false, KindUserUpdated: false, KindResync: false,
	} {
		if got := Logged(kind); got != want {
			t.Errorf("Logged(%q) = %v, want %v", kind, got, want)
		}
	}
}

// A subscriber for some kinds is handed none of the others: each event
// handed to an idle subscriber wakes its goroutine (issue 18: every call
// event woke a dozen subscribers that ignore calls).
func TestSubscribeKindsHandsOnlyWantedKinds(t *testing.T) {
	b := New()
	all, cancelAll := b.Subscribe(64)
	defer cancelAll()
	logins, cancel := b.SubscribeKinds(64, func(kind string) bool { return kind == "login" })
	defer cancel()
	for range 5 {
		b.Publish(Event{Kind: KindCallTrying})
		b.Publish(Event{Kind: KindCallTerminated})
	}
	b.Publish(Event{Kind: "login", Extension: "3001"})
	b.Publish(Event{Kind: KindResync}) // always wanted
	if len(all) != 12 {
		t.Fatalf("Subscribe: %d events queued, want 12", len(all))
	}
	if len(logins) != 2 {
		t.Fatalf("SubscribeKinds: %d events queued, want 2 (the login and the resync)", len(logins))
	}
	if e := <-logins; e.Kind != "login" || e.Seq != 11 || e.Extension != "3001" {
		t.Fatalf("got %+v, want the login, seq 11", e)
	}
	if e := <-logins; e.Kind != KindResync || e.Seq != 12 {
		t.Fatalf("got %+v, want the resync, seq 12", e)
	}
}

// A subscriber for some kinds cannot tell a loss from the gaps in Seq, so
// the bus tells it with a resync, before any later event, as soon as it
// has room.
func TestSubscribeKindsTellsLoss(t *testing.T) {
	b := New()
	ch, cancel := b.SubscribeKinds(2, func(kind string) bool { return kind == "login" })
	defer cancel()
	for range 3 {
		b.Publish(Event{Kind: "login"}) // the third is dropped
	}
	b.Publish(Event{Kind: "login"}) // no room for the resync: dropped too
	if b.Dropped() != 2 {
		t.Fatalf("Dropped %d, want 2", b.Dropped())
	}
	for want := int64(1); want <= 2; want++ {
		if e := <-ch; e.Seq != want || e.Kind != "login" {
			t.Fatalf("got %+v, want login %d", e, want)
		}
	}
	b.Publish(Event{Kind: KindCallTrying}) // unwanted, yet it brings the news
	b.Publish(Event{Kind: "login"})
	var got []Event
	for len(ch) > 0 {
		got = append(got, <-ch)
	}
	if len(got) != 2 || got[0].Kind != KindResync || got[0].Reason != "lost" || got[0].Seq != 5 ||
		got[1].Kind != "login" || got[1].Seq != 6 {
		t.Fatalf("got %+v, want a resync (seq 5) then login 6", got)
	}
	b.Publish(Event{Kind: "login"})
	if e := <-ch; e.Kind != "login" || e.Seq != 7 {
		t.Fatalf("got %+v, want login 7 (told once)", e)
	}
}

// A handler sees every event, in order, as it is published, even when
// every subscriber's buffer is full, and none after its cancel.
func TestHandleSeesEveryEvent(t *testing.T) {
	b := New()
	_, cancelSub := b.Subscribe(1)
	defer cancelSub()
	var seqs []int64
	cancel := b.Handle(func(e Event) { seqs = append(seqs, e.Seq) })
	for range 4 {
		b.Publish(Event{Kind: KindCallTrying})
	}
	cancel()
	b.Publish(Event{Kind: KindCallTrying})
	if len(seqs) != 4 || seqs[0] != 1 || seqs[3] != 4 {
		t.Fatalf("handler saw %v, want 1..4", seqs)
	}
}
