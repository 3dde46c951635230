package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// testMailOutbox: queued mails come back due in order with their
// attachments, retries move them later, and sent or failed ones are no
// longer due.
func testMailOutbox(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	wav := bytes.Repeat([]byte{0xff, 0x7f, 0x00}, 1000)
	a := &hotdesk.Mail{To: "ann@example.com", Subject: "Voicemail from 202", Body: "Hi", AttachmentName: "m.wav", Attachment: wav, CreatedAt: t0}
	b := &hotdesk.Mail{To: "bram@example.com", Subject: "Voicemail", CreatedAt: t0.Add(time.Second)}
	for _, m := range []*hotdesk.Mail{a, b} {
		if err := s.EnqueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if a.ID == 0 || b.ID <= a.ID || a.Status != hotdesk.MailPending || !a.NextAttempt.Equal(t0) {
		t.Fatalf("enqueued %+v %+v", a, b)
	}
	due, err := s.DueMail(ctx, t0, 10)
	if err != nil || len(due) != 1 || due[0].ID != a.ID {
		t.Fatalf("due at t0: %v %+v", err, due)
	}
	if got := due[0]; got.To != a.To || got.Subject != a.Subject || got.Body != "Hi" || got.AttachmentName != "m.wav" ||
		!bytes.Equal(got.Attachment, wav) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("due mail %+v", got)
	}
	if due, err = s.DueMail(ctx, t0.Add(time.Minute), 10); err != nil || len(due) != 2 || due[1].ID != b.ID || len(due[1].Attachment) != 0 {
		t.Fatalf("due later: %v %+v", err, due)
	}
	if due, _ = s.DueMail(ctx, t0.Add(time.Minute), 1); len(due) != 1 || due[0].ID != a.ID {
		t.Fatalf("limit 1: %+v", due)
	}

	// A failed attempt moves the mail later.
	a.Attempts, a.NextAttempt, a.LastError = 1, t0.Add(time.Hour), "451 try later"
	if err := s.UpdateMail(ctx, a); err != nil {
		t.Fatal(err)
	}
	if due, _ = s.DueMail(ctx, t0.Add(time.Minute), 10); len(due) != 1 || due[0].ID != b.ID {
		t.Fatalf("after a retry is scheduled: %+v", due)
	}
	got, err := s.FindMail(ctx, a.ID)
	if err != nil || got.Attempts != 1 || got.LastError != "451 try later" || !got.NextAttempt.Equal(t0.Add(time.Hour)) || got.Attachment != nil {
		t.Fatalf("find: %v %+v", err, got)
	}
	// Sent and given-up mails are never due again.
	sent := t0.Add(2 * time.Hour)
	a.Status, a.Attempts, a.SentAt, a.LastError = hotdesk.MailSent, 2, &sent, ""
	b.Status, b.LastError = hotdesk.MailFailed, "550 no such user"
	for _, m := range []*hotdesk.Mail{a, b} {
		if err := s.UpdateMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if due, _ = s.DueMail(ctx, t0.Add(48*time.Hour), 10); len(due) != 0 {
		t.Fatalf("sent/failed mails still due: %+v", due)
	}
	if got, _ = s.FindMail(ctx, a.ID); got.Status != hotdesk.MailSent || got.SentAt == nil || !got.SentAt.Equal(sent) {
		t.Fatalf("sent mail %+v", got)
	}
	if err := s.UpdateMail(ctx, &hotdesk.Mail{ID: 999999, Status: hotdesk.MailSent}); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("update a missing mail: %v", err)
	}
	if _, err := s.FindMail(ctx, 999999); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("find a missing mail: %v", err)
	}
}
