package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotdesk-pbx/hotdesk/internal/console"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// Issue 17 item 5: `hotdesk admin passwd` takes flags anywhere, refuses an
// unknown admin unless --create, and never creates a missing data dir.
func TestAdminPasswd(t *testing.T) {
	ctx := context.Background()
	for _, v := range []string{"HOTDESK_DATA", "HOTDESK_DB"} {
		t.Setenv(v, "") // restored when the test ends
		os.Unsetenv(v)
	}
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "hotdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := console.EnsureAdmin(ctx, db); err != nil {
		t.Fatal(err)
	}
	db.Close()

	passwd := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"admin", "passwd"}, args...), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	checkPassword := func(user, out string) {
		t.Helper()
		pw := strings.TrimSpace(out[strings.LastIndex(out, ": ")+2:])
		db, err := sqlite.Open(ctx, filepath.Join(dir, "hotdesk.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		a, err := db.FindAdmin(ctx, user)
		if err != nil {
			t.Fatalf("admin %s: %v", user, err)
		}
		if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(pw)) != nil {
			t.Errorf("the printed password %q is not %s's", pw, user)
		}
	}

	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := passwd("--data", missing); err == nil || !strings.Contains(err.Error(), "no data directory at "+missing) {
		t.Errorf("missing data dir: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("admin passwd created %s", missing)
	}
	empty := t.TempDir()
	if _, err := passwd("--data", empty); err == nil || !strings.Contains(err.Error(), "no database at "+filepath.Join(empty, "hotdesk.db")) {
		t.Errorf("data dir without a database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(empty, "hotdesk.db")); !os.IsNotExist(err) {
		t.Errorf("admin passwd created a database in %s", empty)
	}

	// Flags after USER count (they were silently ignored before).
	if _, err := passwd("bob", "--data", dir); err == nil || !strings.Contains(err.Error(), `no console admin "bob" (admins: admin); add --create`) {
		t.Errorf("unknown admin without --create: %v", err)
	}
	out, err := passwd("bob", "--data", dir, "--create")
	if err != nil || !strings.Contains(out, "New console password for bob: ") {
		t.Fatalf("--create after USER: %v %s", err, out)
	}
	checkPassword("bob", out)
	out, err = passwd("--data", dir)
	if err != nil || !strings.Contains(out, "New console password for admin: ") {
		t.Fatalf("default user: %v %s", err, out)
	}
	checkPassword("admin", out)
	if _, err := passwd("admin", "bob", "--data", dir); err == nil || !strings.Contains(err.Error(), "one USER at a time") {
		t.Errorf("two users: %v", err)
	}
	if _, err := passwd("--bogus", "--data", dir); err == nil {
		t.Error("unknown flag accepted")
	}
}
