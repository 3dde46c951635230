package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/mail/mailtest"
)

// An emergency alert email (QueueText) goes out at once, as plain text
// without an attachment; with mail off it is not queued.
func TestQueueTextSendsPlainAlert(t *testing.T) {
	srv := mailtest.Start(t, true)
	f := newFixture(t, srv, nil)
	ctx := context.Background()
	ok, err := f.box.QueueText(ctx, "guard@example.com", "EMERGENCY CALL 112 from desk HD00001", "Desk HD00001, floor 2.\n")
	if err != nil || !ok {
		t.Fatalf("QueueText = %v, %v", ok, err)
	}
	got := srv.Wait(t, 1, 10*time.Second)[0]
	if got.To != "guard@example.com" || !strings.Contains(got.Data, "Desk HD00001, floor 2.") || strings.Contains(got.Data, "attachment") {
		t.Fatalf("alert mail to %q:\n%s", got.To, got.Data)
	}

	f.setMail(t, func(m *hotdesk.MailSettings) { m.Enabled = false })
	if ok, err := f.box.QueueText(ctx, "guard@example.com", "x", "y"); ok || err != nil {
		t.Fatalf("with mail off QueueText = %v, %v; want not queued", ok, err)
	}
	if _, err := f.store.FindMail(ctx, 2); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("a second mail was stored: %v", err)
	}
}
