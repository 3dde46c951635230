package app

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/mwi"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// TestServeMessageLampFollowsUser: in the running PBX the message lamp of
// the desk 201 logs in on shows 201's mailbox, follows a new message and the
// API marking it heard, and goes dark on the desk 201 roams away from.
func TestServeMessageLampFollowsUser(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	ctx := context.Background()
	v := &hotdesk.Voicemail{Extension: "201", Caller: "202", DurationMS: 2000, New: true, Codec: "PCMU"}
	if err := r.store.CreateVoicemail(ctx, v, []byte("RIFF....WAVE")); err != nil {
		t.Fatal(err)
	}
	hd1 := demoPhone(t, r, "HD00001")
	loginByPhone(t, hd1, "*35*201*1234")
	lamp(t, hd1, "yes sip:201@hotdesk.local 1/0")

	// A deposit (as internal/voicemail publishes it) lights the count up.
	v2 := &hotdesk.Voicemail{Extension: "201", Caller: "203", DurationMS: 2000, New: true, Codec: "PCMU"}
	if err := r.store.CreateVoicemail(ctx, v2, []byte("RIFF....WAVE")); err != nil {
		t.Fatal(err)
	}
	r.Bus().Publish(events.Event{Kind: hotdesk.KindVoicemail, Extension: "201", Reason: hotdesk.VoicemailNew})
	lamp(t, hd1, "yes sip:201@hotdesk.local 2/0")

	for _, id := range []int64{v.ID, v2.ID} {
		if code := r.api(t, "PATCH", fmt.Sprintf("/users/201/voicemail/%d", id), `{"new":false}`, nil); code != http.StatusOK {
			t.Fatalf("PATCH message %d: %d", id, code)
		}
	}
	lamp(t, hd1, "no sip:201@hotdesk.local 0/2")

	if code := r.api(t, "POST", fmt.Sprintf("/users/201/voicemail/%d", v.ID), "", nil); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST a message: %d", code)
	}
	if code := r.api(t, "PATCH", fmt.Sprintf("/users/201/voicemail/%d", v.ID), `{"new":true}`, nil); code != http.StatusOK {
		t.Fatal("PATCH new again")
	}
	lamp(t, hd1, "yes sip:201@hotdesk.local 1/1")

	// Roam: the old desk goes dark, the new one lights up.
	hd2 := demoPhone(t, r, "HD00002")
	loginByPhone(t, hd2, "*35*201*1234")
	lamp(t, hd1, "no sip:HD00001@hotdesk.local 0/0")
	lamp(t, hd2, "yes sip:201@hotdesk.local 1/1")
}

// lamp waits until p's latest message-summary NOTIFY says want
// ("yes|no ACCOUNT NEW/OLD").
func lamp(tb testing.TB, p *siptest.Phone, want string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if got, _ := p.WaitNotify(1, mwi.Event, 100*time.Millisecond); len(got) > 0 {
			if last = siptest.Lamp(got[len(got)-1].Body()); last == want {
				return
			}
		}
	}
	tb.Fatalf("%s: lamp %q, want %q", p.User(), last, want)
}
