package media

import (
	"context"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestConcurrentPlayLoad measures the CPU cost of many sessions playing at
// once (HOTDESK_MEDIA_LOAD=N sessions for 2 s). Skipped by default; run:
//
//	HOTDESK_MEDIA_LOAD=500 go test -run ConcurrentPlayLoad -v ./internal/media/
func TestConcurrentPlayLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HOTDESK_MEDIA_LOAD"))
	if n <= 0 {
		t.Skip("HOTDESK_MEDIA_LOAD not set")
	}
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	_ = sink.SetReadBuffer(8 << 20)
	var received atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
			received.Add(1)
		}
	}()
	offer := offerSDP("127.0.0.1", sink.LocalAddr().(*net.UDPAddr).Port, "0 101")
	pool := NewPortPool(0, 0)
	sessions := make([]*Session, n)
	for i := range sessions {
		if sessions[i], err = NewSession(pool, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		defer sessions[i].Close()
		if _, err := sessions[i].Answer(offer); err != nil {
			t.Fatal(err)
		}
	}
	pcm := tone(2 * 8000)
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Go(func() { _ = s.Play(context.Background(), pcm) })
	}
	wg.Wait()
	wall := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	pkts := n * 100
	t.Logf("%d sessions x 100 packets in %v wall, %v CPU (%.1f%% of one core, %.1f µs/packet incl. sink), %d received",
		n, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds(), float64(cpu.Microseconds())/float64(pkts), received.Load())
	if wall > 3*time.Second {
		t.Errorf("2 s prompts took %v: pacing cannot keep up", wall)
	}
}
