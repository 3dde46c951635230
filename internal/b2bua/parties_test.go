package b2bua_test

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// cachedOffice is an office whose B2BUA keeps parties from the bus, after
// one call from HD1 (201) to 202 on HD2 has put both in the cache.
func cachedOffice(t *testing.T, users ...hotdesk.User) *office {
	t.Helper()
	o := mustOffice(t, users...)
	testrun.Eventually(t, 5*time.Second, "the party cache following the bus", func() bool { return b2bua.PartiesWatching(o.b2b) })
	c, in := o.mustRing(t)
	hangUp(t, c, in)
	return o
}

// ringsFrom dials 202 from caller and returns the INVITE that reached
// callee, hanging up after.
func ringsFrom(t *testing.T, caller, callee *siptest.Phone) *sip.Request {
	t.Helper()
	c, err := caller.Dial("202")
	if err != nil {
		t.Fatalf("call to 202: %v", err)
	}
	in, err := callee.WaitIncoming(2 * time.Second)
	if err != nil {
		c.Hangup()
		t.Fatalf("202's phone did not ring: %v", err)
	}
	hangUp(t, c, in)
	return in.Request
}

func TestPartiesReadOncePerParty(t *testing.T) {
	t.Parallel()
	o := cachedOffice(t)
	before := b2bua.PartyFetches(o.b2b)
	for range 3 {
		ringsFrom(t, o.hd1, o.hd2)
	}
	if n := b2bua.PartyFetches(o.b2b) - before; n != 0 {
		t.Errorf("%d store lookups for three calls between the same parties, want 0", n)
	}
	o.waitIdle(t, 3*time.Second)
}

func TestPartiesLogoutSeenByNextCall(t *testing.T) {
	t.Parallel()
	o := cachedOffice(t)
	if _, err := o.desk.Logout(context.Background(), "HD2", hotdesk.ReasonAdmin, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.hd1.Dial("202"); statusOf(err) != sip.StatusTemporarilyUnavailable {
		t.Errorf("call to 202 logged out: %v, want 480", err)
	}
	o.waitIdle(t, 3*time.Second)
}

func TestPartiesRoamingSeenByNextCall(t *testing.T) {
	t.Parallel()
	o := cachedOffice(t)
	o.login(t, "202", "HD3")
	ringsFrom(t, o.hd1, o.hd3)
	if _, err := o.hd2.WaitIncoming(200 * time.Millisecond); err == nil {
		t.Error("the phone 202 left rang")
	}
	o.waitIdle(t, 3*time.Second)
}

func TestPartiesCallerLoginSeenByNextCall(t *testing.T) {
	t.Parallel()
	o := cachedOffice(t, hotdesk.User{Extension: "201"}, hotdesk.User{Extension: "202"}, hotdesk.User{Extension: "203"})
	o.login(t, "203", "HD1") // replaces 201 on HD1
	if from := ringsFrom(t, o.hd1, o.hd2).From(); from.Address.User != "203" {
		t.Errorf("call from HD1 after 203 logged in on it presents %q, want 203", from.Value())
	}
	o.waitIdle(t, 3*time.Second)
}

func TestPartiesUserChangeSeenByNextCall(t *testing.T) {
	t.Parallel()
	o := cachedOffice(t)
	adm := admin.New(admin.Options{Store: o.store, Desk: o.desk, Bus: o.bus, Logger: testLogger()})
	name := "Renamed 201"
	if _, err := adm.UpdateUser(context.Background(), "test", "201", admin.UserInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if from := ringsFrom(t, o.hd1, o.hd2).From(); from.DisplayName != name {
		t.Errorf("callee saw From %q after the rename, want %q", from.Value(), name)
	}
	o.waitIdle(t, 3*time.Second)
}

// Another node's change reaches this node as an event with Node set
// (internal/cluster), after its commit; a lost event as a resync.
func TestPartiesOtherNodesChangeSeenByNextCall(t *testing.T) {
	t.Parallel()
	for _, e := range []events.Event{
		{Kind: hotdesk.KindUserChanged, Extension: "201", Node: "n2"},
		{Kind: events.KindResync},
	} {
		t.Run(e.Kind, func(t *testing.T) {
			t.Parallel()
			o := cachedOffice(t)
			name := "Changed on n2"
			if _, err := o.store.UpdateUser(context.Background(), "201", hotdesk.UserUpdate{Name: &name}); err != nil {
				t.Fatal(err)
			}
			o.bus.Publish(e)
			if from := ringsFrom(t, o.hd1, o.hd2).From(); from.DisplayName != name {
				t.Errorf("callee saw From %q after %s, want %q", from.Value(), e.Kind, name)
			}
			o.waitIdle(t, 3*time.Second)
		})
	}
}
