package web

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
)

// testWAV is a μ-law WAV file (RIFF, format 7) of n 8 kHz samples of
// silence, as the recorder stores messages.
func testWAV(n int) []byte {
	b, err := wav.EncodeG711("PCMU", bytes.Repeat([]byte{0xff}, n))
	if err != nil {
		panic(err)
	}
	return b
}

// MustVoicemail stores a 1 s message from 202 in ext's mailbox and returns
// its id.
func (e *env) MustVoicemail(ext string) int64 {
	e.t.Helper()
	v := &hotdesk.Voicemail{Extension: ext, Caller: "202", CallerName: "Bram", DurationMS: 1000, New: true, Codec: "PCMU",
		ReceivedAt: e.clock.Now()}
	if err := e.store.CreateVoicemail(context.Background(), v, testWAV(8000)); err != nil {
		e.t.Fatal(err)
	}
	return v.ID
}

func TestVoicemailAPI(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	e.MustUser("202")
	id1 := e.MustVoicemail("201")
	e.clock.Advance(time.Minute)
	id2 := e.MustVoicemail("201")
	ch, stop := e.bus.Subscribe(16)
	defer stop()

	var list []map[string]any
	r := e.do("GET", "/api/v1/users/201/voicemail", "").want(t, 200, &list)
	if len(list) != 2 || r.Header.Get("X-Total-Count") != "2" {
		t.Fatalf("list: %s", r.Body)
	}
	for _, k := range []string{"id", "caller", "caller_name", "received_at", "duration_ms", "new"} {
		if _, ok := list[0][k]; !ok {
			t.Errorf("a listed message lacks %q: %v", k, list[0])
		}
	}
	if list[0]["caller"] != "202" || list[0]["new"] != true || list[0]["duration_ms"] != float64(1000) {
		t.Errorf("first message: %v", list[0])
	}
	e.do("GET", "/api/v1/users/202/voicemail", "").want(t, 200, &list)
	if len(list) != 0 {
		t.Fatalf("202's mailbox: %v", list)
	}

	// The audio, whole and by range (a browser seeking).
	wav := testWAV(8000)
	r = e.do("GET", "/api/v1/users/201/voicemail/"+itoa(id1), "").want(t, 200, nil)
	if !bytes.Equal(r.Body, wav) || r.Header.Get("Content-Type") != "audio/wav" || r.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("audio: %d bytes, %q, %q", len(r.Body), r.Header.Get("Content-Type"), r.Header.Get("Accept-Ranges"))
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/users/201/voicemail/"+itoa(id1), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Range", "bytes=100-199")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 200)
	n, _ := res.Body.Read(part)
	res.Body.Close()
	if res.StatusCode != 206 || res.Header.Get("Content-Range") != "bytes 100-199/"+itoa(int64(len(wav))) || !bytes.Equal(part[:n], wav[100:100+n]) {
		t.Fatalf("range: %d %q", res.StatusCode, res.Header.Get("Content-Range"))
	}

	// Heard: audited, published with the counts after it.
	var out map[string]any
	e.do("PATCH", "/api/v1/users/201/voicemail/"+itoa(id1), `{"new":false}`).want(t, 200, &out)
	if out["new"] != false || out["id"] != float64(id1) {
		t.Fatalf("patch: %v", out)
	}
	ev := nextEvent(t, ch, hotdesk.KindVoicemail)
	if ev.Extension != "201" || ev.Reason != hotdesk.VoicemailRead || ev.Detail != "id="+itoa(id1)+" new=1 old=1" || ev.Source != Source {
		t.Fatalf("event %+v", ev)
	}
	// The same again changes nothing and is not audited twice.
	e.do("PATCH", "/api/v1/users/201/voicemail/"+itoa(id1), `{"new":false}`).want(t, 200, nil)
	if n := e.auditCount(hotdesk.KindVoicemail); n != 1 {
		t.Fatalf("%d voicemail audit rows, want 1", n)
	}

	e.do("DELETE", "/api/v1/users/201/voicemail/"+itoa(id2), "").want(t, 204, nil)
	ev = nextEvent(t, ch, hotdesk.KindVoicemail)
	if ev.Reason != hotdesk.VoicemailDeleted || ev.Detail != "id="+itoa(id2)+" new=0 old=1" {
		t.Fatalf("event %+v", ev)
	}
	e.do("GET", "/api/v1/users/201/voicemail/"+itoa(id2), "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	if n := e.auditCount(hotdesk.KindVoicemail); n != 2 {
		t.Fatalf("%d voicemail audit rows, want 2", n)
	}
}

// TestVoicemailAPIErrors: bad input and missing things answer as
// everywhere else in the API.
func TestVoicemailAPIErrors(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	e.MustUser("202")
	id := e.MustVoicemail("201")
	p := "/api/v1/users/201/voicemail/" + itoa(id)
	e.do("GET", "/api/v1/users/299/voicemail", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("GET", "/api/v1/users/201/voicemail/x", "").wantErr(t, 400, hotdesk.EINVALID, "id")
	e.do("GET", "/api/v1/users/201/voicemail/0", "").wantErr(t, 400, hotdesk.EINVALID, "id")
	e.do("GET", "/api/v1/users/201/voicemail/999", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	// Another user's message is not reachable through this one's mailbox.
	e.do("GET", "/api/v1/users/202/voicemail/"+itoa(id), "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("DELETE", "/api/v1/users/202/voicemail/"+itoa(id), "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("PATCH", p, `{}`).wantErr(t, 400, hotdesk.EINVALID, "new")
	e.do("PATCH", p, `{"new":"no"}`).wantErr(t, 400, hotdesk.EINVALID, "new")
	e.do("PATCH", p, `{"new":false,"caller":"x"}`).wantErr(t, 400, hotdesk.EINVALID, "caller")
	e.do("POST", p, "").wantErr(t, 405, "method_not_allowed", "")
	e.do("GET", "/api/v1/users/201/voicemail?limit=3", "").wantErr(t, 400, hotdesk.EINVALID, "limit")
	e.doAuth("GET", p, "", "").wantErr(t, 401, hotdesk.EUNAUTHORIZED, "")
	e.doAuth("GET", "/api/v1/users/201/voicemail", "", "Bearer wrong").wantErr(t, 401, hotdesk.EUNAUTHORIZED, "")
	if n := e.auditCount(hotdesk.KindVoicemail); n != 0 {
		t.Fatalf("refused requests wrote %d audit rows", n)
	}
	var list []map[string]any
	if e.do("GET", "/api/v1/users/201/voicemail", "").want(t, 200, &list); len(list) != 1 || list[0]["new"] != true {
		t.Fatalf("refused requests changed the mailbox: %v", list)
	}
}

// TestVoicemailWebhookKind: webhooks and the event stream take the
// voicemail kind, and a change queues a delivery for a hook that asks.
func TestVoicemailWebhookKind(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	id := e.MustVoicemail("201")
	var h struct {
		ID int64 `json:"id"`
	}
	e.do("POST", "/api/v1/webhooks", `{"url":"https://hooks.example.com/vm","kinds":["voicemail"]}`).want(t, 201, &h)
	e.do("DELETE", "/api/v1/users/201/voicemail/"+itoa(id), "").want(t, 204, nil)
	ds, err := e.store.PendingDeliveries(context.Background(), h.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	as, err := e.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindVoicemail}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || len(as) != 1 || ds[0].AuditID != as[0].ID {
		t.Fatalf("deliveries %+v for voicemail audit rows %+v", ds, as)
	}
	// The event stream takes the kind as a filter.
	if !slices.Contains(eventKinds, hotdesk.KindVoicemail) {
		t.Fatalf("event stream kinds %v lack voicemail", eventKinds)
	}
}

func nextEvent(tb testing.TB, ch <-chan events.Event, kind string) events.Event {
	tb.Helper()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			tb.Fatalf("no %s event", kind)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestMailSettings: the SMTP password is stored but never echoed; a GET
// document sent back keeps it; password_set false clears it; bad fields
// are named.
func TestMailSettings(t *testing.T) {
	e := MustEnv(t)
	var out struct {
		Mail map[string]any `json:"mail"`
	}
	put := `{"mail":{"enabled":true,"host":"smtp.example.com","port":587,"starttls":true,"username":"pbx","password":"s3cret","from":"pbx@example.com"}}`
	r := e.do("PUT", "/api/v1/settings", put).want(t, 200, &out)
	if bytes.Contains(r.Body, []byte("s3cret")) || out.Mail["password_set"] != true || out.Mail["host"] != "smtp.example.com" {
		t.Fatalf("PUT answer: %s", r.Body)
	}
	r = e.do("GET", "/api/v1/settings", "").want(t, 200, &out)
	if bytes.Contains(r.Body, []byte("s3cret")) || out.Mail["password_set"] != true {
		t.Fatalf("GET: %s", r.Body)
	}
	e.do("PUT", "/api/v1/settings", string(r.Body)).want(t, 200, nil) // the GET document sent back
	st, _ := e.store.GetSettings(context.Background())
	if st.Mail.Password != "s3cret" || st.Mail.Username != "pbx" || !st.Mail.StartTLS {
		t.Fatalf("stored mail settings %+v", st.Mail)
	}
	e.do("PUT", "/api/v1/settings", `{"mail":{"enabled":true,"host":"smtp.example.com","from":"pbx@example.com","username":"pbx","password_set":false}}`).want(t, 200, nil)
	if st, _ = e.store.GetSettings(context.Background()); st.Mail.Password != "" {
		t.Fatal("password_set false kept the password")
	}
	e.do("PUT", "/api/v1/settings", `{"mail":{"enabled":true,"host":"","from":"pbx@example.com"}}`).wantErr(t, 400, hotdesk.EINVALID, "mail.host")
	e.do("PUT", "/api/v1/settings", `{"mail":{"enabled":true,"host":"smtp.example.com","from":"not an address"}}`).wantErr(t, 400, hotdesk.EINVALID, "mail.from")
	e.do("PUT", "/api/v1/settings", `{"mail":{"host":"smtp.example.com","port":70000}}`).wantErr(t, 400, hotdesk.EINVALID, "mail.port")
}
