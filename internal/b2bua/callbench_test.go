package b2bua_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// BenchmarkSippCall: b.N calls from 201 on HD1 to 202 on HD2, both phones
// sipp (bench/calls' scenarios: INVITE, 407, INVITE with credentials, 180,
// 200, ACK, BYE, no talk), at most 4 at a time. The peers are other
// processes, so -benchmem counts what the PBX side allocates per call
// (signaling, registrar, B2BUA, records; and the harness's event log), and
// cpu-µs/call is this process's CPU time from getrusage.
//
//	go test -run '^$' -bench SippCall -benchmem -benchtime 3000x ./internal/b2bua/
func BenchmarkSippCall(b *testing.B) {
	siptest.MustSipp(b)
	p := mustPBX(b)
	p.mustUser(b, hotdesk.User{Extension: "201"})
	p.mustUser(b, hotdesk.User{Extension: "202"})
	for _, id := range []string{"HD1", "HD2"} { // no Go phone registered: sipp plays both
		d := &hotdesk.Device{ID: id, Mode: hotdesk.ModeHotdesk, SIPPassword: "pw-" + id, Model: hotdesk.ModelGeneric}
		if err := p.store.CreateDevice(context.Background(), d); err != nil {
			b.Fatal(err)
		}
	}
	p.login(b, "201", "HD1")
	p.login(b, "202", "HD2")
	port := siptest.FreePort(b, "127.0.0.1")
	startSippOn(b, "register_ok.xml", "127.0.0.1", port, p.addr(), append(deviceArgs(b, "HD2"), "-key", "expires", "300")...).MustWait(b)
	inf := filepath.Join(b.TempDir(), "callers.csv")
	if err := os.WriteFile(inf, []byte("SEQUENTIAL\nHD1;[authentication username=HD1 password=pw-HD1];202\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	n := strconv.Itoa(b.N)
	timeout := time.Duration(b.N)*10*time.Millisecond + 20*time.Second
	uas := startSippOn(b, "bench_call_uas.xml", "127.0.0.1", port, "", "-m", n)
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	uac := siptest.Sipp{Scenario: "bench_call_uac.xml", Remote: p.addr(), Timeout: timeout,
		Args: []string{"-inf", inf, "-key", "domain", realm, "-m", n, "-r", "400", "-l", "4", "-d", "0"}}.Start(b)
	<-uac.Done()
	uac.MustWait(b)
	p.waitIdle(b, 10*time.Second)
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
	uas.MustWait(b)
}

// cpuTime is this process's user and system CPU time.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(fmt.Errorf("getrusage: %w", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
