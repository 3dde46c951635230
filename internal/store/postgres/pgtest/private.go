package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Server is a PostgreSQL server of one test's own, in a temporary
// directory and reachable only on a Unix socket there, for tests that stop
// or restart the database (the shared HOTDESK_TEST_POSTGRES one must not
// be).
type Server struct {
	dir, bin string
	// DSN names its database "hotdesk" as user hotdesk.
	DSN string
}

// Private starts a Server, stopped and removed when the test ends. It runs
// only where HOTDESK_TEST_POSTGRES is set (PostgreSQL is installed there)
// and skips without initdb. fsync on or off as asked. As root (CI) the
// server runs as user postgres, as scripts/test does.
func Private(tb testing.TB, fsync bool) *Server {
	tb.Helper()
	DSN(tb)
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			bins = []string{p}
		} else {
			tb.Skip("no initdb")
		}
	}
	sort.Slice(bins, func(i, j int) bool { return pgVersion(bins[i]) < pgVersion(bins[j]) })
	s := &Server{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "hotdesk-pgtest-")
	if err != nil {
		tb.Fatal(err)
	}
	s.dir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("running as root and no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() {
		s.run("pg_ctl", "-D", s.dir+"/data", "-m", "immediate", "stop")
		os.RemoveAll(s.dir)
	})
	if out, err := s.run("initdb", "-D", dir+"/data", "-A", "trust", "-U", "hotdesk"); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -c fsync=%v -c max_connections=200", dir, map[bool]string{true: "on", false: "off"}[fsync])
	if out, err := s.run("pg_ctl", "-D", dir+"/data", "-o", opts, "-l", dir+"/log", "-w", "start"); err != nil {
		tb.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	if out, err := s.run("createdb", "-h", dir, "-U", "hotdesk", "hotdesk"); err != nil {
		tb.Fatalf("createdb: %v\n%s", err, out)
	}
	s.DSN = "postgres://hotdesk@/hotdesk?host=" + dir + "&sslmode=disable"
	return s
}

func pgVersion(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// Restart is `pg_ctl restart -m fast`: every connection is cut.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if out, err := s.run("pg_ctl", "-D", s.dir+"/data", "-l", s.dir+"/log", "-m", "fast", "-w", "restart"); err != nil {
		tb.Fatalf("pg_ctl restart: %v\n%s", err, out)
	}
}

// run runs a PostgreSQL program, as user postgres when this is root.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	if os.Geteuid() != 0 {
		return exec.Command(path, args...).CombinedOutput()
	}
	q := []string{shellQuote(path)}
	for _, a := range args {
		q = append(q, shellQuote(a))
	}
	return exec.Command("su", "postgres", "-s", "/bin/sh", "-c", strings.Join(q, " ")).CombinedOutput()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
