package mwi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/mwi"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

func TestBody(t *testing.T) {
	for _, c := range []struct {
		s    mwi.Summary
		want string
	}{
		{mwi.Summary{Extension: "201", New: 2, Old: 5}, "Messages-Waiting: yes\r\nMessage-Account: sip:201@x\r\nVoice-Message: 2/5 (0/0)\r\n"},
		{mwi.Summary{Extension: "201", Old: 3}, "Messages-Waiting: no\r\nMessage-Account: sip:201@x\r\nVoice-Message: 0/3 (0/0)\r\n"},
		{mwi.Summary{}, "Messages-Waiting: no\r\nMessage-Account: sip:201@x\r\nVoice-Message: 0/0 (0/0)\r\n"},
	} {
		if got := string(c.s.Body("sip:201@x")); got != c.want {
			t.Errorf("%+v: %q, want %q", c.s, got, c.want)
		}
	}
}

// TestUnsolicitedFollowsUser: phones that never subscribe get unsolicited
// NOTIFYs: the desk a user logs in on lights up with their mailbox, a
// deposit and a read update it, and the desk they roam away from goes dark.
func TestUnsolicitedFollowsUser(t *testing.T) {
	h := mustStart(t, nil)
	h.counts.set("201", 2, 1)
	a, b := h.phone(t, "HD00001"), h.phone(t, "HD00002")
	h.login(t, "201", "HD00001")
	n := waitSummary(t, a, summary{"yes", "sip:201@pbx.test", "2/1 (0/0)"})
	if st := n.GetHeader("Subscription-State"); st == nil || st.Value() != "active" {
		t.Fatalf("unsolicited NOTIFY Subscription-State:\n%s", n)
	}
	if tag, ok := n.From().Params.Get("tag"); !ok || tag == "" || n.From().Address.User != "hotdesk" {
		t.Fatalf("From: %s", n.From())
	}

	h.deposit("201", 3, 1)
	waitSummary(t, a, summary{"yes", "sip:201@pbx.test", "3/1 (0/0)"})

	// Roam: 201 logs in on HD00002. The old desk goes dark, the new lights.
	h.login(t, "201", "HD00002")
	waitSummary(t, a, summary{"no", "sip:HD00001@pbx.test", "0/0 (0/0)"})
	waitSummary(t, b, summary{"yes", "sip:201@pbx.test", "3/1 (0/0)"})

	// All heard: the lamp goes off but the saved count stays.
	h.deposit("201", 0, 4)
	waitSummary(t, b, summary{"no", "sip:201@pbx.test", "0/4 (0/0)"})

	// 202 replaces 201 on HD00002: it shows 202's (empty) mailbox.
	h.login(t, "202", "HD00002")
	waitSummary(t, b, summary{"no", "sip:202@pbx.test", "0/0 (0/0)"})
	h.logout(t, "HD00002")
	waitSummary(t, b, summary{"no", "sip:HD00002@pbx.test", "0/0 (0/0)"})
}

// TestPersonalPhoneShowsOwner: a personal phone shows its owner's mailbox
// without any login, as soon as it registers, and a deposit for the owner
// reaches it.
func TestPersonalPhoneShowsOwner(t *testing.T) {
	h := mustStart(t, nil)
	h.counts.set("205", 1, 0)
	soft := h.phone(t, "soft205")
	waitSummary(t, soft, summary{"yes", "sip:205@pbx.test", "1/0 (0/0)"})
	h.deposit("205", 2, 0)
	waitSummary(t, soft, summary{"yes", "sip:205@pbx.test", "2/0 (0/0)"})
	h.deposit("205", 0, 2)
	waitSummary(t, soft, summary{"no", "sip:205@pbx.test", "0/2 (0/0)"})
}

// TestSubscribeFollowsUser: a phone that subscribes (digest-challenged like
// any request of a device) gets the state in its subscription's dialog, and
// later changes there too, not as unsolicited NOTIFYs; an unsubscribe ends
// with a terminated NOTIFY.
func TestSubscribeFollowsUser(t *testing.T) {
	h := mustStart(t, nil)
	h.counts.set("201", 1, 0)
	h.login(t, "201", "HD00001")
	a := h.phone(t, "HD00001")
	waitSummary(t, a, summary{"yes", "sip:201@pbx.test", "1/0 (0/0)"})
	before := len(a.Notifies())

	res, err := a.Subscribe("HD00001", mwi.Event, 600)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %v %v", err, res)
	}
	if h.mwi.Subscriptions() != 1 {
		t.Fatalf("%d subscriptions", h.mwi.Subscriptions())
	}
	totag, _ := res.To().Params.Get("tag")
	// An unsolicited NOTIFY of the login or the registration may still be
	// on its way when the SUBSCRIBE is answered; after the subscription's
	// first NOTIFY, every NOTIFY must be in its dialog.
	var first *sip.Request
	inDialog := 0
	testrun.Eventually(t, 5*time.Second, "the subscription's first NOTIFY", func() bool {
		for i, r := range a.Notifies()[before:] {
			if r.CallID().Value() == res.CallID().Value() {
				first, inDialog = r, before+i
				return true
			}
		}
		return false
	})
	if !strings.HasPrefix(first.GetHeader("Subscription-State").Value(), "active;expires=") {
		t.Fatalf("first NOTIFY not in the subscription:\n%s", first)
	}
	if tag, _ := first.From().Params.Get("tag"); tag != totag {
		t.Fatalf("NOTIFY From tag %q, want the 200's To tag %q", tag, totag)
	}
	if s := parse(t, first); s != (summary{"yes", "sip:201@pbx.test", "1/0 (0/0)"}) {
		t.Fatalf("first NOTIFY: %+v", s)
	}

	// Roam away: the subscription follows the phone, which goes dark.
	h.login(t, "201", "HD00002")
	n := waitSummary(t, a, summary{"no", "sip:HD00001@pbx.test", "0/0 (0/0)"})
	if n.CallID().Value() != res.CallID().Value() || n.CSeq().SeqNo != first.CSeq().SeqNo+1 {
		t.Fatalf("roam NOTIFY not the next in the dialog:\n%s", n)
	}
	for _, r := range a.Notifies()[inDialog:] {
		if r.CallID().Value() != res.CallID().Value() {
			t.Fatalf("a subscribed phone got an unsolicited NOTIFY:\n%s", r)
		}
	}

	// Unsubscribe: a final NOTIFY says terminated, and the subscription is gone.
	res, err = a.Subscribe("HD00001", mwi.Event, 0)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("unSUBSCRIBE: %v %v", err, res)
	}
	testrun.Eventually(t, 5*time.Second, "no subscriptions", func() bool { return h.mwi.Subscriptions() == 0 })
	testrun.Eventually(t, 5*time.Second, "terminated NOTIFY", func() bool {
		all := a.Notifies()
		st := all[len(all)-1].GetHeader("Subscription-State")
		return st != nil && strings.HasPrefix(st.Value(), "terminated")
	})
}

// TestSubscribeNeedsDigest: a SUBSCRIBE with wrong credentials is refused
// and creates nothing.
func TestSubscribeNeedsDigest(t *testing.T) {
	h := mustStart(t, nil)
	p := siptest.New(t, siptest.Options{Server: h.srv.UDPAddr().String(), User: "HD00001", Password: "wrong", Domain: testDomain})
	res, err := p.Subscribe("HD00001", mwi.Event, 600)
	if err != nil || res.StatusCode < 400 {
		t.Fatalf("SUBSCRIBE with a wrong password: %v %v", err, res)
	}
	if h.mwi.Subscriptions() != 0 {
		t.Fatal("subscription created without valid credentials")
	}
}

// TestRegistrationLightsOnly: a phone that registers (its lamp off after
// a reboot) is sent nothing when there is nothing to light — neutral, or
// its user has no new messages — and the lit lamp when there is.
func TestRegistrationLightsOnly(t *testing.T) {
	h := mustStart(t, nil)
	h.counts.set("201", 1, 0)
	h.counts.set("202", 0, 3)
	h.login(t, "202", "HD00001")
	time.Sleep(100 * time.Millisecond) // the login's (always) round finds no contact yet
	a := h.phone(t, "HD00001")         // 202 is on it, nothing new
	c := siptest.New(t, siptest.Options{Server: h.srv.UDPAddr().String(), User: "soft205", Password: "pw-soft205", Domain: testDomain})
	c.MustRegister(t) // 205 has no messages at all
	time.Sleep(200 * time.Millisecond)
	for _, p := range []*siptest.Phone{a, c} {
		if got, _ := p.WaitNotify(1, mwi.Event, 0); len(got) != 0 {
			t.Fatalf("%s got %d message-summary NOTIFYs on registering with nothing to light", p.User(), len(got))
		}
	}
	h.login(t, "201", "HD00002")
	b := h.phone(t, "HD00002")
	waitSummary(t, b, summary{"yes", "sip:201@pbx.test", "1/0 (0/0)"})
}

// TestLostEventsRelightLamps: when the notifier was told it lost events
// (events.KindResync: its queue overran in a registration flood, or other
// nodes' events were missed), it lights within a second or two every
// phone that shows new messages, though it never heard that phone come up
// with messages waiting; a phone with nothing new hears nothing.
func TestLostEventsRelightLamps(t *testing.T) {
	h := mustStart(t, nil)
	h.login(t, "201", "HD00001")
	h.login(t, "202", "HD00002")
	a := h.phone(t, "HD00001")
	b := h.phone(t, "HD00002")
	time.Sleep(200 * time.Millisecond) // the logins' rounds, before the phones were there
	a.WaitNotify(10, mwi.Event, 100*time.Millisecond)
	b.WaitNotify(10, mwi.Event, 100*time.Millisecond)
	// 201's messages came while the events that would have said so
	// were lost: nothing is published for them.
	h.counts.set("201", 2, 1)
	h.bus.Publish(events.Event{Kind: events.KindResync, Reason: "lost"})
	waitSummary(t, a, summary{"yes", "sip:201@pbx.test", "2/1 (0/0)"})
	if got, _ := b.WaitNotify(1, mwi.Event, 1500*time.Millisecond); len(got) != 0 {
		t.Fatalf("HD00002 (202, nothing new) got a message-summary NOTIFY after the resync:\n%s", got[0])
	}
}

// TestSubscriptionsPerDeviceCapped: a phone may hold a few message-summary
// subscriptions; more (new Call-IDs) are refused with 403, and refreshing
// one it holds still works.
func TestSubscriptionsPerDeviceCapped(t *testing.T) {
	h := mustStart(t, nil)
	var last *siptest.Phone
	for i := range 5 {
		// Each Go test phone subscribes from its own port and Call-ID.
		p := siptest.New(t, siptest.Options{Server: h.srv.UDPAddr().String(), User: "HD00001", Password: "pw-HD00001", Domain: testDomain})
		res, err := p.Subscribe("HD00001", mwi.Event, 600)
		if err != nil {
			t.Fatal(err)
		}
		want := 200
		if i == 4 {
			want = 403
		} else {
			last = p
		}
		if res.StatusCode != want {
			t.Fatalf("subscription %d: %d, want %d", i+1, res.StatusCode, want)
		}
	}
	if n := h.mwi.Subscriptions(); n != 4 {
		t.Fatalf("%d subscriptions, want 4", n)
	}
	if res, err := last.Subscribe("HD00001", mwi.Event, 600); err != nil || res.StatusCode != 200 {
		t.Fatalf("re-SUBSCRIBE of a held subscription: %v %v", err, res)
	}
}
