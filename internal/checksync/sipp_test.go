package checksync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/checksync"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// TestSippPhoneAcceptsCheckSync: a sipp phone that checks the NOTIFY the
// way strict phones do (From URI without spaces and with a tag, Contact,
// Max-Forwards, Event) answers 200 (issue 10: the From was sipgo's
// "Hotdesk PBX dev" <sip:Hotdesk PBX dev@…> and linphone answered 400).
func TestSippPhoneAcceptsCheckSync(t *testing.T) {
	siptest.MustSipp(t) // before the server starts
	srv := mustServe(t, signaling.Options{Domain: "pbx.test", UserAgent: "Hotdesk PBX dev"})

	port := siptest.FreePort(t, "127.0.0.1")
	r := siptest.Sipp{Scenario: "login_notify_uas.xml", Port: port, Timeout: 15 * time.Second}.Start(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := checksync.New(checksync.Options{SIP: srv, Logger: quiet})
	b := hotdesk.Binding{Device: "HD00001", Contact: "<sip:HD00001@" + addr + ">", Source: addr, Transport: "udp"}
	var notifyErr error
	for try := 0; try < 20; try++ { // sipp may not be listening yet: no answer then
		nctx, ncancel := context.WithTimeout(context.Background(), time.Second)
		notifyErr = n.Notify(nctx, b)
		ncancel()
		if notifyErr == nil || !strings.Contains(notifyErr.Error(), "deadline") {
			break
		}
	}
	if _, waitErr := r.Wait(); notifyErr != nil || waitErr != nil {
		t.Fatalf("notify: %v; sipp: %v", notifyErr, waitErr)
	}
}
