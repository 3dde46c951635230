package mwi_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// sippPhone is a sipp UAS (test/sipp/mwi_uas.xml) standing in for a
// registered desk phone that takes unsolicited MWI NOTIFYs.
type sippPhone struct {
	cmd  *exec.Cmd
	out  strings.Builder
	dir  string
	addr string
}

func startSippPhone(tb testing.TB, bin string, notifies int) *sippPhone {
	tb.Helper()
	port := freeUDPPort(tb)
	p := &sippPhone{dir: tb.TempDir(), addr: fmt.Sprintf("127.0.0.1:%d", port)}
	scen, _ := filepath.Abs(filepath.Join("..", "..", "test", "sipp", "mwi_uas.xml"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	p.cmd = exec.CommandContext(ctx, bin, "-sf", scen, "-t", "u1", "-i", "127.0.0.1", "-p", fmt.Sprint(port),
		"-m", fmt.Sprint(notifies), "-nostdin", "-timeout", "20s", "-timeout_error",
		"-trace_logs", "-log_file", filepath.Join(p.dir, "mwi.log"),
		"-trace_err", "-error_file", filepath.Join(p.dir, "errors.log"))
	p.cmd.Dir = p.dir
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// wait waits for sipp to have answered all its NOTIFYs and returns the
// lamp states it logged, in order.
func (p *sippPhone) wait(tb testing.TB) []string {
	tb.Helper()
	err := p.cmd.Wait()
	logged, _ := os.ReadFile(filepath.Join(p.dir, "mwi.log"))
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(p.dir, "errors.log"))
		tb.Fatalf("sipp at %s: %v\n%s\n%s\n%s", p.addr, err, p.out.String(), errs, logged)
	}
	var states []string
	for line := range strings.SplitSeq(string(logged), "\n") {
		if i := strings.Index(line, "MWI "); i >= 0 {
			states = append(states, strings.TrimSpace(line[i+4:]))
		}
	}
	return states
}

func (p *sippPhone) binding(device string) hotdesk.Binding {
	return hotdesk.Binding{Device: device, Contact: "<sip:" + device + "@" + p.addr + ">", Source: p.addr, Transport: "udp"}
}

// TestSippPhonesSeeTheLampMove: two sipp desk phones receive the MWI
// NOTIFYs of a user who logs in on the first (lamp on with the counts), gets
// a message (new count up), and roams to the second (the first goes dark,
// the second lights up).
func TestSippPhonesSeeTheLampMove(t *testing.T) {
	bin := siptest.MustSipp(t)
	p1, p2 := startSippPhone(t, bin, 3), startSippPhone(t, bin, 1)
	contacts := func(device string) []hotdesk.Binding {
		switch device {
		case "HD00001":
			return []hotdesk.Binding{p1.binding(device)}
		case "HD00002":
			return []hotdesk.Binding{p2.binding(device)}
		}
		return nil
	}
	h := mustStart(t, contacts)
	h.counts.set("201", 2, 1)
	// sipp may not be listening yet: a NOTIFY it misses is retransmitted
	// (UDP Timer E), so the first one still arrives.
	h.login(t, "201", "HD00001")
	testrun.Eventually(t, 5*time.Second, "login NOTIFY answered", func() bool { return h.mwi.Sent() == 1 })
	h.deposit("201", 3, 1)
	testrun.Eventually(t, 5*time.Second, "deposit NOTIFY answered", func() bool { return h.mwi.Sent() == 2 })
	h.login(t, "201", "HD00002")

	if got, want := strings.Join(p1.wait(t), "; "), "yes sip:201@pbx.test 2/1; yes sip:201@pbx.test 3/1; no sip:HD00001@pbx.test 0/0"; got != want {
		t.Errorf("HD00001 saw %q, want %q", got, want)
	}
	if got, want := strings.Join(p2.wait(t), "; "), "yes sip:201@pbx.test 3/1"; got != want {
		t.Errorf("HD00002 saw %q, want %q", got, want)
	}
}

func freeUDPPort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
