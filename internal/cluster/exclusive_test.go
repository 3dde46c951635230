package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// TestExclusiveRunsOnOneNodeAndFailsOver: of two nodes only one runs the
// function; when the holder's connection is dropped it stops and the other
// takes over.
func TestExclusiveRunsOnOneNodeAndFailsOver(t *testing.T) {
	dsn := testDSN(t)
	u, admin := mustSchema(t, dsn)
	suffix := fmt.Sprint(time.Now().UnixNano())
	var mu sync.Mutex
	running := map[string]bool{}
	peak := 0
	started := make(chan string, 10)
	fn := func(node string) func(context.Context) error {
		return func(ctx context.Context) error {
			mu.Lock()
			running[node] = true
			n := 0
			for _, r := range running {
				if r {
					n++
				}
			}
			peak = max(peak, n)
			mu.Unlock()
			started <- node
			<-ctx.Done()
			mu.Lock()
			running[node] = false
			mu.Unlock()
			return nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, node := range []string{"a" + suffix, "b" + suffix} {
		o := ExclusiveOptions{DSN: u, Node: node, Name: "test", Logger: quiet(), Retry: 50 * time.Millisecond, Check: 50 * time.Millisecond}
		wg.Go(func() {
			if err := Exclusive(ctx, o, fn(node)); err != nil {
				t.Errorf("%s: %v", node, err)
			}
		})
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	first := waitStart(t, started)
	time.Sleep(300 * time.Millisecond) // the other retries several times meanwhile
	var n int
	if err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, "hotdesk test "+first).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminate %s: %d, %v", first, n, err)
	}
	second := waitStart(t, started)
	if second == first {
		// The first may win again after reconnecting; it must have stopped
		// in between, which peak below checks.
		t.Logf("%s took the lock again", first)
	}
	mu.Lock()
	defer mu.Unlock()
	if peak != 1 {
		t.Fatalf("%d nodes ran at once", peak)
	}
}

func waitStart(tb testing.TB, started <-chan string) string {
	tb.Helper()
	return testrun.Receive(tb, started, 10*time.Second, "node running")
}
