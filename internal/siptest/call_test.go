package siptest

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
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
	bin := MustSipp(t)
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	scenario, _ := filepath.Abs(filepath.Join("..", "..", "test", "sipp", "call_callee_cancel_glare_uas.xml"))
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	uas := exec.CommandContext(ctx, bin, "-sf", scenario, "-t", "u1", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error")
	uas.Dir = t.TempDir()
	out := make(chan error, 1)
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { out <- uas.Wait() }()
	time.Sleep(300 * time.Millisecond) // sipp binds its port

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
	if err := <-out; err != nil {
		t.Fatalf("sipp callee: %v (the crossing 200 was not ACKed and hung up; dial said %v)", err, dialErr)
	}
}
