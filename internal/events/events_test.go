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
