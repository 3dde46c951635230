package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// Logins' user reads that queue up while the reader runs one are read
// together, in one batch (one read transaction), each with its own answer.
func TestLoginUserReadsBatched(t *testing.T) {
	ctx := context.Background()
	db := openGroup(t)
	if _, err := db.w.Exec(`CREATE TABLE users (extension TEXT PRIMARY KEY, hotdesk BOOLEAN, pin_hash TEXT, locked_until INTEGER)`); err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		if _, err := db.w.Exec(`INSERT INTO users VALUES ($1, 1, $2, NULL)`, fmt.Sprint(201+i), fmt.Sprint("hash-", i)); err != nil {
			t.Fatal(err)
		}
	}
	release := make(chan struct{})
	var mu sync.Mutex
	var batches []int
	db.rd.batched = func(k int) {
		mu.Lock()
		batches = append(batches, k)
		first := len(batches) == 1
		mu.Unlock()
		if first {
			<-release
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if u, err := db.LoginUser(ctx, "999"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
			t.Errorf("unknown user: %+v %v, want ENOTFOUND", u, err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) { // progress, not speed
		mu.Lock()
		started := len(batches) == 1
		mu.Unlock()
		if started {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first read did not start")
		}
	}
	for i := range n {
		wg.Go(func() {
			u, err := db.LoginUser(ctx, fmt.Sprint(201+i))
			if err != nil || u.Extension != fmt.Sprint(201+i) || u.PINHash != fmt.Sprint("hash-", i) || !u.Hotdesk {
				t.Errorf("user %d: %+v %v", 201+i, u, err)
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); len(db.rd.reqs) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d reads queued, want %d", len(db.rd.reqs), n)
		}
	}
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(batches, []int{1, n}) {
		t.Fatalf("batches %v, want [1 %d]", batches, n)
	}
}
