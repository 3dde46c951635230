package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/app"
	"github.com/hotdesk-pbx/hotdesk/internal/mwi"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// TestMessageLampAcrossNodes: a mailbox change made through node a (the
// API marks 201's message unheard) lights the lamp of the desk 201 is
// logged in on, registered with node b: the voicemail event crosses the
// event log and b's MWI sends the NOTIFY over the phone's flow.
func TestMessageLampAcrossNodes(t *testing.T) {
	db := mustCluster(t)
	a := startNode(t, "a", "127.0.0.1", db, "35000-35199", true)
	b := startNode(t, "b", "127.0.0.2", db, "35200-35399", false)
	hd2 := phoneAt(t, b, "HD00002", app.DemoPassword("HD00002"))
	phoneLogin(t, hd2, "*35*201*1234")

	st := mustStore(t, db)
	v := &hotdesk.Voicemail{Extension: "201", Caller: "202", DurationMS: 2000, New: false, Codec: "PCMU"}
	if err := st.CreateVoicemail(context.Background(), v, []byte("RIFF....WAVE")); err != nil {
		t.Fatal(err)
	}
	lamps, _ := hd2.WaitNotify(0, mwi.Event, 0)
	before := len(lamps)
	changed := time.Now()
	if code := a.api(t, "PATCH", fmt.Sprintf("/users/201/voicemail/%d", v.ID), `{"new":true}`, nil); code != http.StatusOK {
		t.Fatalf("PATCH /users/201/voicemail/%d through node a: %d", v.ID, code)
	}
	last := ""
	for time.Since(changed) < 5*time.Second && !(strings.HasPrefix(last, "yes ") && strings.HasSuffix(last, " 1/0")) {
		if got, _ := hd2.WaitNotify(before+1, mwi.Event, 100*time.Millisecond); len(got) > 0 {
			last = siptest.Lamp(got[len(got)-1].Body())
		}
	}
	if !strings.HasPrefix(last, "yes ") || !strings.HasSuffix(last, " 1/0") {
		t.Fatalf("HD00002 on node b: lamp %q after 201's message was marked new through node a, want lit 1/0", last)
	}
	t.Logf("message marked new through node a -> lamp lit on HD00002 at node b: %v", time.Since(changed).Round(time.Millisecond))
}
