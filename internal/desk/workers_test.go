package desk

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// goid is the calling goroutine's id, from its stack header.
func goid() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(buf[:bytes.IndexByte(buf, ' ')]), 10, 64)
	return id
}

// txGoroutines records the goroutine of each transaction.
type txGoroutines struct {
	*siptest.MemStore
	mu  sync.Mutex
	ids map[uint64]int
}

func (s *txGoroutines) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	s.mu.Lock()
	s.ids[goid()]++
	s.mu.Unlock()
	return s.MemStore.InTx(ctx, fn)
}

// Logins and logouts called each from a goroutine of its own (as sipgo
// calls them, one goroutine per message) run their store calls on
// goroutines kept for reuse, whose stacks have grown already.
func TestLoginRunsOnReusedGoroutines(t *testing.T) {
	base := newFixture(t)
	st := &txGoroutines{MemStore: base.store, ids: map[uint64]int{}}
	svc := New(Options{Store: st, Now: base.clock.Now, Logger: slog.New(slog.DiscardHandler), SettingsTTL: time.Nanosecond})
	const rounds = 20
	for i := range rounds {
		errc := make(chan error, 1)
		go func() {
			var err error
			if i%2 == 0 {
				_, err = svc.Login(context.Background(), LoginRequest{Extension: "201", Device: "HD00001", PIN: "1234", CheckPIN: true})
			} else {
				_, err = svc.Logout(context.Background(), "HD00001", hotdesk.ReasonUser, "test")
			}
			errc <- err
		}()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.ids) > rounds/4 {
		t.Fatalf("%d logins and logouts ran their transactions on %d goroutines, want a few reused ones", rounds, len(st.ids))
	}
}

// As many calls run at once as callers make, and a panic reaches the
// caller.
func TestWorkersConcurrentAndPanic(t *testing.T) {
	w := newWorkers()
	const n = 16
	var started, wg sync.WaitGroup
	started.Add(n)
	for range n {
		wg.Go(func() {
			w.do(func() {
				started.Done()
				started.Wait() // every call is running: none waits for a worker
			})
		})
	}
	wg.Wait()
	defer func() {
		if p := recover(); fmt.Sprint(p) != "boom" {
			t.Fatalf("recovered %v, want the worker's panic", p)
		}
	}()
	w.do(func() { panic("boom") })
}
