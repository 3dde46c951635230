package checksync_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	bin := siptest.MustSipp(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := signaling.New(signaling.Options{UDPAddr: "127.0.0.1:0", Domain: "pbx.test", UserAgent: "Hotdesk PBX dev", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	port := freeUDPPort(t)
	dir := t.TempDir()
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	scen, _ := filepath.Abs(filepath.Join("..", "..", "test", "sipp", "login_notify_uas.xml"))
	cmd := exec.CommandContext(sctx, bin, "-sf", scen, "-t", "u1", "-i", "127.0.0.1", "-p", fmt.Sprint(port),
		"-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := checksync.New(checksync.Options{SIP: srv, Logger: log})
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
	waitErr := cmd.Wait()
	if notifyErr != nil || waitErr != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("notify: %v; sipp: %v\n%s\n%s", notifyErr, waitErr, out.String(), errs)
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
