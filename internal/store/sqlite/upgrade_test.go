package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/hotdesk-pbx/hotdesk"
)

// Upgrades: a database written by an earlier release (its schema version
// and data, testdata/release-<N>.sql) opens with this build, is migrated
// to the latest version, and reads back through the store unchanged.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	ctx := context.Background()
	sub, _ := fs.Sub(migrations, "migrations")
	fixtures, _ := filepath.Glob("testdata/release-*.sql")
	if len(fixtures) == 0 {
		t.Fatal("no release fixtures")
	}
	for _, fx := range fixtures {
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(fx), "release-"), ".sql"), 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", fx, err)
		}
		t.Run(filepath.Base(fx), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hotdesk.db")
			raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)")
			if err != nil {
				t.Fatal(err)
			}
			p, err := goose.NewProvider(goose.DialectSQLite3, raw, sub, goose.WithDisableGlobalRegistry(true))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, n); err != nil {
				t.Fatalf("migrate to release schema %d: %v", n, err)
			}
			data, err := os.ReadFile(fx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.ExecContext(ctx, string(data)); err != nil {
				t.Fatalf("load %s: %v", fx, err)
			}
			raw.Close()

			db, err := Open(ctx, path) // migrates to the latest
			if err != nil {
				t.Fatalf("open a release-%d database: %v", n, err)
			}
			defer db.Close()
			if v, err := Check(ctx, path); err != nil || v != lastMigration(t) {
				t.Errorf("schema version after upgrade %d (%v), want %d", v, err, lastMigration(t))
			}
			u, err := db.FindUser(ctx, "201")
			if err != nil || u.Name != "Anna de Vries" || !u.Hotdesk || len(u.DIDs) != 1 || u.RingTimeout != 20 {
				t.Errorf("user 201: %+v %v", u, err)
			}
			d, err := db.FindDevice(ctx, "HD00001")
			if err != nil || d.MAC != "000413a00001" || d.SIPPassword != "demo-HD00001-secret" || d.Location.Floor != "1" {
				t.Errorf("device HD00001: %+v %v", d, err)
			}
			ls, err := db.ListLogins(ctx)
			if err != nil || len(ls) != 1 || ls[0].Extension != "201" || ls[0].Device != "HD00001" || !ls[0].Since.Equal(time.Unix(0, 1764594000000000000)) {
				t.Errorf("logins: %+v %v", ls, err)
			}
			if _, err := db.FindAdmin(ctx, "admin"); err != nil {
				t.Errorf("admin: %v", err)
			}
			st, err := db.GetSettings(ctx)
			if err != nil || st.Lang != "nl" || st.Timezone != "Europe/Amsterdam" || st.NationalPrefix != hotdesk.DefaultSettings().NationalPrefix {
				t.Errorf("settings: %+v %v", st, err)
			}
			// And it still takes writes.
			if err := db.CreateUser(ctx, &hotdesk.User{Extension: "203", Name: "New"}); err != nil {
				t.Errorf("create a user after the upgrade: %v", err)
			}
		})
	}
}

// lastMigration is the highest migration number this build ships.
func lastMigration(tb testing.TB) int64 {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		tb.Fatal(err)
	}
	var last int64
	for _, e := range entries {
		n, err := strconv.ParseInt(strings.SplitN(e.Name(), "_", 2)[0], 10, 64)
		if err == nil {
			last = max(last, n)
		}
	}
	return last
}
