package b2bua

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// NotFromTrunk (for the read loops, issue 18) answers only from what
// FromTrunk read: before any read, once a settings change was seen, after
// trunkFresh and while nobody follows the bus it is unsure (false).
func TestNotFromTrunkOnlyWhenSure(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	sources := []string{"192.0.2.10"}
	b := &B2BUA{cache: newPartyCache(), o: Options{Now: func() time.Time { return now },
		Settings: func(context.Context) hotdesk.Settings {
			st := hotdesk.DefaultSettings()
			st.Trunk = hotdesk.Trunk{Enabled: true, Sources: sources}
			return st
		}}}
	ch := make(chan events.Event, 4)
	b.cache.ch = ch
	b.cache.watching.Store(true)
	from := func(src string) *sip.Request {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "202", Host: "pbx.test"})
		req.SetSource(src)
		return req
	}
	phone, trunk := from("198.51.100.7:5060"), from("192.0.2.10:5060")
	if b.NotFromTrunk(phone) {
		t.Fatal("sure before FromTrunk read the settings")
	}
	if b.FromTrunk(phone) || !b.FromTrunk(trunk) {
		t.Fatal("FromTrunk")
	}
	if !b.NotFromTrunk(phone) || b.NotFromTrunk(trunk) {
		t.Fatalf("after FromTrunk: phone %v, trunk %v; want true, false", b.NotFromTrunk(phone), b.NotFromTrunk(trunk))
	}
	// A settings change on the bus (the trunk's addresses may have changed).
	sources = []string{"198.51.100.7"}
	ch <- events.Event{Seq: 1, Kind: hotdesk.KindSettings}
	b.cache.mu.Lock()
	b.cache.drainLocked()
	b.cache.mu.Unlock()
	if b.NotFromTrunk(phone) {
		t.Fatal("sure after a settings change")
	}
	b.FromTrunk(trunk)
	if b.NotFromTrunk(phone) || !b.NotFromTrunk(trunk) {
		t.Fatal("the new addresses not applied")
	}
	now = now.Add(trunkFresh)
	if b.NotFromTrunk(trunk) {
		t.Fatal("sure after trunkFresh")
	}
	b.FromTrunk(trunk)
	b.cache.watching.Store(false)
	if b.NotFromTrunk(trunk) {
		t.Fatal("sure while nobody follows the bus")
	}
}
