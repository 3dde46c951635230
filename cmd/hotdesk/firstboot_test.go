package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver

	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres/pgtest"
)

// latestMigration is the highest migration number shipped for PostgreSQL.
func latestMigration(tb testing.TB) int64 {
	tb.Helper()
	files, err := filepath.Glob("../../internal/store/postgres/migrations/*.sql")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no migrations found: %v", err)
	}
	var latest int64
	for _, f := range files {
		n, err := strconv.ParseInt(strings.SplitN(filepath.Base(f), "_", 2)[0], 10, 64)
		if err != nil {
			tb.Fatalf("migration %s: %v", f, err)
		}
		latest = max(latest, n)
	}
	return latest
}

// Issue 19: three nodes started at the same moment on one empty PostgreSQL
// database all come up; exactly one creates (and prints) the console admin,
// the others say where it went; all use one API token; the schema is at
// the latest migration. Ten fresh databases in a row.
func TestServeThreeNodesAtOnceOnFreshPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	testBinary(t)
	latest := latestMigration(t)
	const rounds, nodes = 10, 3
	for round := range rounds {
		t.Run("round"+strconv.Itoa(round+1), func(t *testing.T) {
			url, _ := pgtest.MustSchema(t, dsn)
			procs := make([]*proc, nodes)
			dirs := make([]string, nodes)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range nodes {
				dirs[i] = t.TempDir()
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					procs[i] = startProc(t, nil, serveArgs(dirs[i], "--db", url, "--node", "n"+strconv.Itoa(i+1), "--demo")...)
				}()
			}
			t0 := time.Now()
			close(start)
			wg.Wait()
			urls := make([]string, nodes)
			for i, p := range procs {
				urls[i] = p.baseURL(t, 30*time.Second)
			}
			up := time.Since(t0)
			created, told := 0, 0
			tokens := map[string]bool{}
			for i, p := range procs {
				if code, body := get(t, urls[i]+"/healthz", ""); code != 200 {
					t.Errorf("node %d /healthz: %d %s", i+1, code, body)
				}
				out := p.stdout.String()
				created += strings.Count(out, "Created console admin")
				if strings.Contains(out, "already set up") && strings.Contains(out, "hotdesk admin passwd") {
					told++
				}
				b, err := os.ReadFile(filepath.Join(dirs[i], "admin-token"))
				if err != nil {
					t.Fatalf("node %d admin token: %v", i+1, err)
				}
				tokens[strings.TrimSpace(string(b))] = true
			}
			if created != 1 || told != nodes-1 {
				for i, p := range procs {
					t.Logf("node %d stdout:\n%s\nstderr:\n%s", i+1, p.stdout, p.stderr)
				}
				t.Fatalf("%d nodes printed a new console password and %d said it was set up elsewhere; want 1 and %d", created, told, nodes-1)
			}
			if len(tokens) != 1 {
				t.Fatalf("nodes use %d different API tokens, want one", len(tokens))
			}
			for tok := range tokens {
				for i := range nodes {
					if code, body := get(t, urls[i]+"/api/v1/users", tok); code != 200 || !strings.Contains(body, `"201"`) {
						t.Errorf("node %d GET /api/v1/users with the shared token: %d %.200s", i+1, code, body)
					}
				}
			}
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var admins, users int
			var version int64
			if err := db.QueryRow(`SELECT count(*) FROM admins`).Scan(&admins); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`SELECT count(*) FROM users`).Scan(&users); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&version); err != nil {
				t.Fatal(err)
			}
			if admins != 1 || users != 5 || version != latest {
				t.Errorf("admins %d (want 1), demo users %d (want 5), schema version %d (want %d)", admins, users, version, latest)
			}
			t.Logf("round %d: 3 nodes up in %v; admins=%d schema=%d", round+1, up.Round(time.Millisecond), admins, version)
		})
	}
}

// Issue 19: two processes on one SQLite data dir must not both run; the
// second refuses, naming the data directory.
func TestServeRefusesSecondProcessOnDataDir(t *testing.T) {
	dir := t.TempDir()
	first := startProc(t, nil, serveArgs(dir)...)
	url := first.baseURL(t, 30*time.Second)
	second := startProc(t, nil, serveArgs(dir)...)
	err := second.wait(t, 30*time.Second)
	if err == nil {
		t.Fatalf("second process on %s exited 0", dir)
	}
	abs, _ := filepath.Abs(dir)
	msg := second.stderr.String()
	if !strings.Contains(msg, "another hotdesk process") || !strings.Contains(msg, abs) {
		t.Errorf("second process said %q; want it to name the data dir %s", msg, abs)
	}
	if code, _ := get(t, url+"/healthz", ""); code != 200 {
		t.Errorf("first process /healthz after the second tried: %d", code)
	}
	// Once the first has stopped, the data dir is free again.
	first.stop(t)
	third := startProc(t, nil, serveArgs(dir)...)
	third.baseURL(t, 30*time.Second)
}
