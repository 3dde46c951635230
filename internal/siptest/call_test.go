package siptest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestCancelledDialAcksCrossingAnswer has sipp play an RFC 3261 phone
// whose 200 was on the wire when our CANCEL came: it answers the CANCEL
// 481, then sends the 200 and fails unless that 200 is ACKed within 3 s
// and hung up. (sipgo's own cancel gives up on the 481 and drops the 200.)
func TestCancelledDialAcksCrossingAnswer(t *testing.T) {
	port := FreePort(t, "127.0.0.1")
	uas := Sipp{Scenario: "call_callee_cancel_glare_uas.xml", Port: port, Timeout: 15 * time.Second}.Start(t)

	p := New(t, Options{Server: "127.0.0.1:" + strconv.Itoa(port), User: "caller", Password: "x"})
	dctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, dialErr := p.DialContext(dctx, "callee", DialOptions{OnResponse: func(r *sip.Response) {
		if r.StatusCode == sip.StatusRinging {
			cancel()
		}
	}})
	if dialErr == nil {
		t.Fatal("a cancelled dial succeeded")
	}
	if _, err := uas.Wait(); err != nil {
		t.Fatalf("sipp callee: %v (the crossing 200 was not ACKed and hung up; dial said %v)", err, dialErr)
	}
}
