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

// Lamp reads (DeviceMailbox) go through the same reader: those queued
// while it runs a read are read together with the logins' user reads
// queued meanwhile, in one batch (one read transaction), each with its own
// answer; internal/mwi batches nothing of its own.
func TestDeviceMailboxReadsBatched(t *testing.T) {
	ctx := context.Background()
	db := openGroup(t)
	for _, q := range []string{
		`CREATE TABLE users (extension TEXT PRIMARY KEY, hotdesk BOOLEAN, pin_hash TEXT, locked_until INTEGER)`,
		`CREATE TABLE devices (id TEXT PRIMARY KEY, owner TEXT, mode TEXT)`,
		`CREATE TABLE logins (device TEXT PRIMARY KEY, extension TEXT)`,
		`CREATE TABLE voicemail (extension TEXT, is_new BOOLEAN)`,
		`INSERT INTO users VALUES ('301', 1, 'hash', NULL)`,
		`INSERT INTO devices VALUES ('P301', '301', 'personal')`,
		`INSERT INTO voicemail VALUES ('301', 1), ('301', 0), ('301', 0)`,
	} {
		if _, err := db.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	const n = 10
	for i := range n {
		ext := fmt.Sprint(201 + i)
		if _, err := db.w.Exec(`INSERT INTO devices VALUES ($1, '', 'hotdesk')`, "HD"+ext); err != nil {
			t.Fatal(err)
		}
		if _, err := db.w.Exec(`INSERT INTO logins VALUES ($1, $2)`, "HD"+ext, ext); err != nil {
			t.Fatal(err)
		}
		for range i {
			if _, err := db.w.Exec(`INSERT INTO voicemail VALUES ($1, 1)`, ext); err != nil {
				t.Fatal(err)
			}
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
	wg.Go(func() { // a phone no one is at: no mailbox
		if ext, nw, old, err := db.DeviceMailbox(ctx, "XX999"); err != nil || ext != "" || nw != 0 || old != 0 {
			t.Errorf("unknown phone: %q %d/%d %v", ext, nw, old, err)
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
			ext, nw, old, err := db.DeviceMailbox(ctx, fmt.Sprint("HD", 201+i))
			if err != nil || ext != fmt.Sprint(201+i) || nw != i || old != 0 {
				t.Errorf("lamp of HD%d: %q %d/%d %v, want %d %d/0", 201+i, ext, nw, old, err, 201+i, i)
			}
		})
	}
	wg.Go(func() { // the owner's mailbox on a personal phone
		if ext, nw, old, err := db.DeviceMailbox(ctx, "P301"); err != nil || ext != "301" || nw != 1 || old != 2 {
			t.Errorf("lamp of P301: %q %d/%d %v, want 301 1/2", ext, nw, old, err)
		}
	})
	wg.Go(func() { // a login's user read among them
		if u, err := db.LoginUser(ctx, "301"); err != nil || u.Extension != "301" || u.PINHash != "hash" {
			t.Errorf("user 301: %+v %v", u, err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); len(db.rd.reqs) < n+2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d reads queued, want %d", len(db.rd.reqs), n+2)
		}
	}
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(batches, []int{1, n + 2}) {
		t.Fatalf("batches %v, want [1 %d]", batches, n+2)
	}
}
