package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx" for the admin connection

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/postgres/pgtest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlstore"
	"github.com/hotdesk-pbx/hotdesk/internal/store/storetest"
)

// testDSN returns HOTDESK_TEST_POSTGRES or skips the test.
func testDSN(tb testing.TB) string { return pgtest.DSN(tb) }

// MustCreateSchema creates an empty schema that is dropped when the test
// ends, and returns a URL that uses it.
func MustCreateSchema(tb testing.TB, dsn string) string {
	tb.Helper()
	url, _ := pgtest.MustSchema(tb, dsn)
	return url
}

// MustOpen opens a store at url and closes it when the test ends.
func MustOpen(tb testing.TB, url string) *DB {
	tb.Helper()
	return storetest.MustOpen(tb, Open, url)
}

// MustOpenFresh opens a store on a new empty schema.
func MustOpenFresh(tb testing.TB, dsn string) *DB {
	tb.Helper()
	return MustOpen(tb, MustCreateSchema(tb, dsn))
}

func TestContract(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) hotdesk.Store { return MustOpenFresh(t, dsn) })
}

// TestTwoNodes runs concurrent roaming logins through two stores on one
// schema, as two nodes sharing a database would, and checks the unique
// keys and serialisable transactions leave one login per user and device.
func TestTwoNodes(t *testing.T) {
	ctx := context.Background()
	url := MustCreateSchema(t, testDSN(t))
	// Both nodes start (and migrate) at once.
	var a, b *DB
	var errA, errB error
	var wg sync.WaitGroup
	wg.Go(func() { a, errA = Open(ctx, url) })
	wg.Go(func() { b, errB = Open(ctx, url) })
	wg.Wait()
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	const users, devices = 6, 4
	for i := range users {
		if err := a.CreateUser(ctx, &hotdesk.User{Extension: fmt.Sprint(201 + i), Hotdesk: true}); err != nil {
			t.Fatal(err)
		}
	}
	for range devices {
		if err := b.CreateDevice(ctx, &hotdesk.Device{Mode: hotdesk.ModeHotdesk}); err != nil {
			t.Fatal(err)
		}
	}
	nodes := []*DB{a, b}
	errs := make([]error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				ext, dev := fmt.Sprint(201+(w+i)%users), fmt.Sprintf("HD%05d", 1+(w*3+i)%devices)
				if err := roamRetry(ctx, nodes[w%2], ext, dev); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ls, err := a.ListLogins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range ls {
		if seen[l.Extension] || seen[l.Device] {
			t.Fatalf("duplicate login %+v in %+v", l, ls)
		}
		seen[l.Extension], seen[l.Device] = true, true
	}
	n, err := b.CountAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogin}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 8*25 {
		t.Fatalf("login audit events = %d, want %d", n, 8*25)
	}
}

// roamRetry logs ext in on dev (ending both old logins), retrying ECONFLICT
// a bounded number of times as internal/desk does.
func roamRetry(ctx context.Context, db *DB, ext, dev string) error {
	var err error
	for range 50 {
		err = db.InTx(ctx, func(tx hotdesk.Tx) error { return storetest.RoamLogin(ctx, tx, ext, dev) })
		if hotdesk.ErrorCode(err) != hotdesk.ECONFLICT {
			return err
		}
	}
	return fmt.Errorf("%s@%s still conflicting: %w", ext, dev, err)
}

// TestMigrateTwice checks that reopening a migrated schema keeps its data.
func TestMigrateTwice(t *testing.T) {
	ctx := context.Background()
	url := MustCreateSchema(t, testDSN(t))
	db := MustOpen(t, url)
	if err := db.CreateUser(ctx, &hotdesk.User{Extension: "201"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = MustOpen(t, url)
	if _, err := db.FindUser(ctx, "201"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

// TestOpenUnreachable needs no server: a closed loopback port must fail
// Open at once with an error that says where it tried to connect.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	db, err := Open(ctx, "postgres://hotdesk:secret@"+addr+"/hotdesk?sslmode=disable")
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded on a closed port")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %v to fail", d)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "postgres open: ") || !strings.Contains(msg, addr) || !strings.Contains(msg, "connection refused") {
		t.Errorf("error = %q, want it to name the server", msg)
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("error %q leaks the password", msg)
	}
}

func TestOpenBadURL(t *testing.T) {
	for _, url := range []string{
		"postgres://hotdesk:secret@127.0.0.1:notaport/db",
		"postgres://hotdesk:secret@127.0.0.1/db?sslmode=sometimes",
	} {
		db, err := Open(context.Background(), url)
		if err == nil {
			db.Close()
			t.Fatalf("Open(%q) succeeded", url)
		}
		msg := err.Error()
		if !strings.Contains(msg, "postgres open: database URL") || strings.Contains(msg, "secret") {
			t.Errorf("Open(%q) error = %q, want a database URL error without the password", url, msg)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want sqlstore.Class
	}{
		{&pgconn.PgError{Code: "23505"}, sqlstore.ClassUnique},
		{fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), sqlstore.ClassUnique},
		{&pgconn.PgError{Code: "23503"}, sqlstore.ClassForeignKey},
		{&pgconn.PgError{Code: "40001"}, sqlstore.ClassRetry},
		{&pgconn.PgError{Code: "40P01"}, sqlstore.ClassRetry},
		{&pgconn.PgError{Code: "55P03"}, sqlstore.ClassRetry}, // NOWAIT lock busy
		{&pgconn.PgError{Code: "23502"}, sqlstore.ClassOther}, // not null
		{&pgconn.PgError{Code: "08006"}, sqlstore.ClassOther}, // connection failure
		{errors.New("other"), sqlstore.ClassOther},
		{nil, sqlstore.ClassOther},
	} {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestWriteQueueHonoursContext holds a write transaction open and checks
// that writers queued behind it, on the same node and on another (both wait
// on the advisory lock), give up when their context ends and that the queue
// works again afterwards.
func TestWriteQueueHonoursContext(t *testing.T) {
	ctx := context.Background()
	url := MustCreateSchema(t, testDSN(t))
	a, b := MustOpen(t, url), MustOpen(t, url)
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.InTx(ctx, func(tx hotdesk.Tx) error {
			// The lock is taken by the transaction's first statement.
			if _, err := tx.ListLogins(ctx); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	for name, db := range map[string]*DB{"same node": a, "other node": b} {
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		start := time.Now()
		err := db.CreateUser(wctx, &hotdesk.User{Extension: "201"})
		cancel()
		if err == nil {
			t.Errorf("%s: write succeeded while another transaction held the lock", name)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: gave up after %v", name, d)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, db := range []*DB{a, b} {
		if err := db.CreateUser(ctx, &hotdesk.User{Extension: fmt.Sprint(time.Now().UnixNano())}); err != nil {
			t.Fatalf("after release: %v", err)
		}
	}
}

// TestLoginRowLocks: a login transaction locks only its user's and device's
// rows (and those of the logins it may end), so a login of other users on
// other phones commits while it is open, on this node and another, but one
// about the same user or phone — or one the open login would roam away
// from — waits, and so does any write that is not a login.
func TestLoginRowLocks(t *testing.T) {
	ctx := context.Background()
	url := MustCreateSchema(t, testDSN(t))
	a, b := MustOpen(t, url), MustOpen(t, url)
	for _, ext := range []string{"201", "202", "203", "204"} {
		if err := a.CreateUser(ctx, &hotdesk.User{Extension: ext, Hotdesk: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"HD1", "HD2", "HD3", "HD4"} {
		if err := a.CreateDevice(ctx, &hotdesk.Device{ID: id, Mode: hotdesk.ModeHotdesk}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	// 204 is logged in on HD4: a login of 201 on HD4 ends it.
	if err := a.InTx(ctx, func(tx hotdesk.Tx) error {
		return tx.CreateLogin(ctx, &hotdesk.Login{Extension: "204", Device: "HD4", Since: now, LastActivity: now, Via: "api"})
	}); err != nil {
		t.Fatal(err)
	}
	login := func(db *DB, wctx context.Context, ext, dev string) error {
		return db.InTx(wctx, func(tx hotdesk.Tx) error {
			if err := tx.(hotdesk.LoginLocker).LockLogin(wctx, ext, dev); err != nil {
				return err
			}
			for _, find := range []func() (*hotdesk.Login, error){
				func() (*hotdesk.Login, error) { return tx.LoginByDevice(wctx, dev) },
				func() (*hotdesk.Login, error) { return tx.LoginByUser(wctx, ext) },
			} {
				if l, err := find(); err == nil {
					if err := tx.DeleteLogin(wctx, l.Device); err != nil {
						return err
					}
				}
			}
			return tx.CreateLogin(wctx, &hotdesk.Login{Extension: ext, Device: dev, Since: now, LastActivity: now, Via: "api"})
		})
	}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.InTx(ctx, func(tx hotdesk.Tx) error {
			if err := tx.(hotdesk.LoginLocker).LockLogin(ctx, "201", "HD4"); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	try := func(what string, fn func(context.Context) error, wantWait bool) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		err := fn(wctx)
		if wantWait && err == nil {
			t.Errorf("%s: committed while the login of 201 on HD4 was open", what)
		}
		if !wantWait && err != nil {
			t.Errorf("%s: %v (it should not wait for the login of 201 on HD4)", what, err)
		}
	}
	try("login 202 on HD2 (same node)", func(c context.Context) error { return login(a, c, "202", "HD2") }, false)
	try("login 203 on HD3 (other node)", func(c context.Context) error { return login(b, c, "203", "HD3") }, false)
	try("login 201 on HD1", func(c context.Context) error { return login(b, c, "201", "HD1") }, true)
	try("login 202 on HD4", func(c context.Context) error { return login(b, c, "202", "HD4") }, true)
	try("login 204 on HD1 (roams from HD4)", func(c context.Context) error { return login(b, c, "204", "HD1") }, true)
	try("create a user", func(c context.Context) error { return b.CreateUser(c, &hotdesk.User{Extension: "299"}) }, true)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := login(b, ctx, "204", "HD1"); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

// Issue 18: the audit table keeps the indexes that serve the trail's
// searches, not the case-sensitive audit_device no query used (00013;
// FindAudit searches by lower(device)), so an audit row (one per first
// registration) is written into one index less.
func TestAuditIndexes(t *testing.T) {
	ctx := context.Background()
	url := MustCreateSchema(t, testDSN(t))
	db := MustOpen(t, url)
	if err := db.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindRegistered, Device: "HD00001"}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'audit' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if got, want := strings.Join(names, " "), "audit_device_lower audit_extension audit_kind audit_pkey audit_time"; got != want {
		t.Errorf("audit indexes %q, want %q", got, want)
	}
	if es, err := db.FindAudit(ctx, hotdesk.AuditFilter{Device: "hd00001"}); err != nil || len(es) != 1 {
		t.Fatalf("FindAudit by device: %d events, %v; want 1", len(es), err)
	}
}
