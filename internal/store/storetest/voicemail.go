package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// wavOf is a fake audio payload with every byte value, so a store that
// treats audio as text (NUL, invalid UTF-8) fails the round trip.
func wavOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// testVoicemail: messages are stored with their audio, listed new first
// (oldest first within each group), counted, marked, and deleted; other
// users' messages and unknown ids are ENOTFOUND.
func testVoicemail(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	mkUser(t, s, "201")
	mkUser(t, s, "202")
	mk := func(ext string, at time.Time, isNew bool, size int) *hotdesk.Voicemail {
		t.Helper()
		v := &hotdesk.Voicemail{Extension: ext, Caller: "0612345678", CallerName: "Jan \"J\" Smit",
			ReceivedAt: at, DurationMS: 4200, New: isNew, Codec: "PCMA"}
		must(t, s.CreateVoicemail(ctx, v, wavOf(size)))
		if v.ID == 0 {
			t.Fatal("no id assigned")
		}
		return v
	}
	a := mk("201", t0.Add(2*time.Minute), true, 300000)
	b := mk("201", t0, false, 10)
	c := mk("201", t0.Add(time.Minute), true, 20)
	d := mk("201", t0.Add(-time.Minute), false, 30)
	mk("202", t0, true, 40)

	err := s.CreateVoicemail(ctx, &hotdesk.Voicemail{Extension: "299", ReceivedAt: t0, New: true}, wavOf(5))
	wantCode(t, err, hotdesk.ENOTFOUND)
	now := &hotdesk.Voicemail{Extension: "202", New: true}
	must(t, s.CreateVoicemail(ctx, now, nil))
	if now.ReceivedAt.IsZero() {
		t.Fatal("ReceivedAt not set")
	}

	list, err := s.ListVoicemail(ctx, "201")
	must(t, err)
	var ids []int64
	for _, v := range list {
		ids = append(ids, v.ID)
	}
	if want := []int64{c.ID, a.ID, d.ID, b.ID}; len(ids) != 4 || ids[0] != want[0] || ids[1] != want[1] ||
		ids[2] != want[2] || ids[3] != want[3] {
		t.Fatalf("list order %v, want %v", ids, want)
	}
	got, err := s.GetVoicemail(ctx, "201", a.ID)
	must(t, err)
	if got.Extension != "201" || got.Caller != a.Caller || got.CallerName != a.CallerName ||
		got.DurationMS != 4200 || !got.New || got.Codec != "PCMA" {
		t.Fatalf("got %+v, want %+v", got, a)
	}
	sameTime(t, "received_at", got.ReceivedAt, a.ReceivedAt)
	wav, err := s.VoicemailAudio(ctx, "201", a.ID)
	must(t, err)
	if !bytes.Equal(wav, wavOf(300000)) {
		t.Fatalf("audio: %d bytes back, differs", len(wav))
	}
	_, err = s.GetVoicemail(ctx, "202", a.ID)
	wantCode(t, err, hotdesk.ENOTFOUND)
	_, err = s.VoicemailAudio(ctx, "202", a.ID)
	wantCode(t, err, hotdesk.ENOTFOUND)

	counts := func(ext string, wantNew, wantOld int) {
		t.Helper()
		n, o, err := s.VoicemailCounts(ctx, ext)
		must(t, err)
		if n != wantNew || o != wantOld {
			t.Fatalf("%s counts %d/%d, want %d/%d", ext, n, o, wantNew, wantOld)
		}
	}
	counts("201", 2, 2)
	counts("202", 2, 0)
	counts("203", 0, 0)

	must(t, s.MarkVoicemail(ctx, "201", c.ID, false))
	counts("201", 1, 3)
	must(t, s.MarkVoicemail(ctx, "201", b.ID, true))
	counts("201", 2, 2)
	wantCode(t, s.MarkVoicemail(ctx, "202", c.ID, true), hotdesk.ENOTFOUND)
	got, err = s.GetVoicemail(ctx, "201", c.ID)
	must(t, err)
	if got.New {
		t.Fatal("mark lost")
	}

	must(t, s.DeleteVoicemail(ctx, "201", a.ID))
	wantCode(t, s.DeleteVoicemail(ctx, "201", a.ID), hotdesk.ENOTFOUND)
	wantCode(t, s.DeleteVoicemail(ctx, "202", b.ID), hotdesk.ENOTFOUND)
	_, err = s.VoicemailAudio(ctx, "201", a.ID)
	wantCode(t, err, hotdesk.ENOTFOUND)
	counts("201", 1, 2)

	// Ids are never reused: a message deleted and a new one deposited must
	// not make an old link (the API's /voicemail/{id}) play another message.
	e := mk("201", t0, true, 1)
	if e.ID <= now.ID {
		t.Fatalf("id %d after %d", e.ID, now.ID)
	}
}

// testVoicemailGreeting: one greeting per user, replaced, read back
// byte-exact and deleted.
func testVoicemailGreeting(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	mkUser(t, s, "201")
	_, err := s.Greeting(ctx, "201")
	wantCode(t, err, hotdesk.ENOTFOUND)
	wantCode(t, s.DeleteGreeting(ctx, "201"), hotdesk.ENOTFOUND)
	wantCode(t, s.PutGreeting(ctx, "299", wavOf(3)), hotdesk.ENOTFOUND)
	must(t, s.PutGreeting(ctx, "201", wavOf(1000)))
	must(t, s.PutGreeting(ctx, "201", wavOf(2000)))
	g, err := s.Greeting(ctx, "201")
	must(t, err)
	if !bytes.Equal(g, wavOf(2000)) {
		t.Fatalf("greeting: %d bytes, differs", len(g))
	}
	must(t, s.DeleteGreeting(ctx, "201"))
	_, err = s.Greeting(ctx, "201")
	wantCode(t, err, hotdesk.ENOTFOUND)
}

// testVoicemailDeletedWithUser: deleting a user deletes their messages and
// greeting; a new user with the same extension starts with an empty mailbox.
func testVoicemailDeletedWithUser(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	mkUser(t, s, "201")
	mkUser(t, s, "202")
	for _, ext := range []string{"201", "202"} {
		must(t, s.CreateVoicemail(ctx, &hotdesk.Voicemail{Extension: ext, ReceivedAt: t0, New: true}, wavOf(9)))
		must(t, s.PutGreeting(ctx, ext, wavOf(9)))
	}
	must(t, s.DeleteUser(ctx, "201"))
	mkUser(t, s, "201")
	n, o, err := s.VoicemailCounts(ctx, "201")
	must(t, err)
	if n+o != 0 {
		t.Fatalf("recreated 201 has %d+%d messages", n, o)
	}
	_, err = s.Greeting(ctx, "201")
	wantCode(t, err, hotdesk.ENOTFOUND)
	if list, err := s.ListVoicemail(ctx, "202"); err != nil || len(list) != 1 {
		t.Fatalf("202's mailbox after deleting 201: %v %v", list, err)
	}
	_, err = s.Greeting(ctx, "202")
	must(t, err)
}
