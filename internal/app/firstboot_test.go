package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// On PostgreSQL the API token is the database's: a node that already had a
// token file (a single node upgraded to a cluster) keeps its token and
// hands it to the others; a node whose file differs adopts the shared one.
func TestAdminTokenSharedByNodes(t *testing.T) {
	db := mustPostgresSchema(t)
	dir1, dir2, dir3 := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir1, "admin-token"), []byte("first-node-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, "admin-token"), []byte("stale-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func(dir, node string) *running {
		cfg := testConfig(dir, false)
		cfg.DB, cfg.Node = db, node
		return mustStart(t, cfg)
	}
	n1 := start(dir1, "n1")
	n2 := start(dir2, "n2")
	n3 := start(dir3, "n3")
	for i, n := range []*running{n1, n2, n3} {
		if n.AdminToken() != "first-node-token" {
			t.Errorf("node %d uses token %q", i+1, n.AdminToken())
		}
		b, _ := os.ReadFile(filepath.Join([]string{dir1, dir2, dir3}[i], "admin-token"))
		if strings.TrimSpace(string(b)) != "first-node-token" {
			t.Errorf("node %d's token file holds %q", i+1, b)
		}
	}
	if out := n2.out.String(); !strings.Contains(out, "already has an API admin token") {
		t.Errorf("node 2 did not say its token file was replaced:\n%s", out)
	}
	if out := n3.out.String(); !strings.Contains(out, "set up by another node") {
		t.Errorf("node 3 did not say where the token came from:\n%s", out)
	}
	// A token given on the command line wins, without touching the others.
	cfg := testConfig(t.TempDir(), false)
	cfg.DB, cfg.Node, cfg.AdminToken = db, "n4", "explicit"
	if n4 := mustStart(t, cfg); n4.AdminToken() != "explicit" {
		t.Errorf("--admin-token ignored: %q", n4.AdminToken())
	}
}
