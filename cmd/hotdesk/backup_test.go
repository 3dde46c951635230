package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// post sends a JSON body with the bearer token and returns the status.
func post(tb testing.TB, url, token, body string) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Errorf("POST %s: %v", url, err)
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func readToken(tb testing.TB, dir string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Issue 17 item 4: `hotdesk backup` snapshots a running, writing server;
// `hotdesk restore` refuses the running server's data dir, restores into a
// fresh one, and a server started there has the same users and logins.
func TestBackupWhileServingAndRestore(t *testing.T) {
	src := t.TempDir()
	server := startProc(t, nil, serveArgs(src, "--demo")...)
	base := server.baseURL(t, 30*time.Second)
	token := readToken(t, src)
	if code := post(t, base+"/api/v1/logins", token, `{"extension":"201","device":"HD00001"}`); code != 201 && code != 200 {
		t.Fatalf("login 201 on HD00001: %d", code)
	}
	// A writer adds users while the backup runs.
	var created atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 400; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if post(t, base+"/api/v1/users", token, fmt.Sprintf(`{"extension":"%d","name":"Backup %d"}`, 3000+i, i)) == 201 {
				created.Add(1)
			}
		}
	}()
	for created.Load() < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	before := created.Load()
	// Into DATA/backups, as the packaged service's user would; the
	// backup must not contain itself or earlier backups.
	if err := os.MkdirAll(filepath.Join(src, "backups"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "backups", "older.tgz"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(src, "backups", "hotdesk.backup.tgz")
	backup := startProc(t, nil, "backup", "--data", src, file)
	if err := backup.wait(t, 60*time.Second); err != nil {
		t.Fatalf("backup: %v\n%s", err, backup.stderr)
	}
	during := created.Load()
	close(stop)
	wg.Wait()
	t.Logf("users created by the writer: %d before the backup, %d when it ended, %d in all", before, during, created.Load())

	// Restoring over the running server's data is refused.
	refused := startProc(t, nil, "restore", "--force", "--data", src, file)
	if err := refused.wait(t, 30*time.Second); err == nil || !strings.Contains(refused.stderr.String(), "another hotdesk process") {
		t.Errorf("restore into a running server's data dir: %v %s", err, refused.stderr)
	}
	server.stop(t)

	dst := filepath.Join(t.TempDir(), "restored")
	restore := startProc(t, nil, "restore", file, "--data", dst)
	if err := restore.wait(t, 30*time.Second); err != nil {
		t.Fatalf("restore: %v\n%s", err, restore.stderr)
	}
	// A second restore into the now populated dir needs --force.
	again := startProc(t, nil, "restore", "--data", dst, file)
	if err := again.wait(t, 30*time.Second); err == nil || !strings.Contains(again.stderr.String(), "already holds a database") {
		t.Errorf("restore over a database without --force: %v %s", err, again.stderr)
	}

	if _, err := os.Stat(filepath.Join(dst, "backups")); !os.IsNotExist(err) {
		t.Errorf("the backup contained DATA/backups: %v", err)
	}
	restored := startProc(t, nil, serveArgs(dst)...)
	rbase := restored.baseURL(t, 30*time.Second)
	if readToken(t, dst) != token {
		t.Error("the restored data dir has another API token")
	}
	if out := restored.stdout.String(); strings.Contains(out, "Created console admin") {
		t.Errorf("the restored server created a new console admin:\n%s", out)
	}
	code, body := get(t, rbase+"/api/v1/users", token)
	var users []struct{ Extension string }
	if code != 200 || json.Unmarshal([]byte(body), &users) != nil {
		t.Fatalf("users after restore: %d %.300s", code, body)
	}
	have := map[string]bool{}
	for _, u := range users {
		have[u.Extension] = true
	}
	for _, ext := range []string{"201", "202", "203", "204", "205"} {
		if !have[ext] {
			t.Errorf("demo user %s missing after restore", ext)
		}
	}
	for i := range before {
		if !have[fmt.Sprint(3000+i)] {
			t.Errorf("user %d, created before the backup began, missing after restore", 3000+i)
		}
	}
	// The snapshot is consistent: the writer's users form a prefix.
	n := 0
	for have[fmt.Sprint(3000+n)] {
		n++
	}
	if len(users) != 5+n || int64(n) > during {
		t.Errorf("restored %d users: not the demo's 5 plus a prefix of the writer's (prefix %d, at most %d)", len(users), n, during)
	}
	code, body = get(t, rbase+"/api/v1/logins", token)
	if code != 200 || !strings.Contains(body, `"extension":"201"`) || !strings.Contains(body, `"device":"HD00001"`) {
		t.Errorf("logins after restore: %d %s", code, body)
	}
}

// `hotdesk backup` on PostgreSQL says to use pg_dump.
func TestBackupPostgresSaysPgDump(t *testing.T) {
	p := startProc(t, nil, "backup", "--db", "postgres://nobody@127.0.0.1:1/x", filepath.Join(t.TempDir(), "b"))
	if err := p.wait(t, 30*time.Second); err == nil || !strings.Contains(p.stderr.String(), "pg_dump") {
		t.Errorf("backup on PostgreSQL: %v %s", err, p.stderr)
	}
}
