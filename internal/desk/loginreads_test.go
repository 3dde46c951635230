package desk

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlstore"
)

// wideReads is an SQLite store that counts the whole-row reads of users
// and devices (FindUser, FindDevice), its transactions' included.
type wideReads struct {
	*sqlite.DB
	n atomic.Int32
}

func (w *wideReads) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	w.n.Add(1)
	return w.DB.FindUser(ctx, ext)
}

func (w *wideReads) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	return w.DB.InTx(ctx, func(tx hotdesk.Tx) error { return fn(&wideReadsTx{Tx: tx.(*sqlstore.Tx), n: &w.n}) })
}

type wideReadsTx struct {
	*sqlstore.Tx
	n *atomic.Int32
}

func (tx *wideReadsTx) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	tx.n.Add(1)
	return tx.Tx.FindUser(ctx, ext)
}

func (tx *wideReadsTx) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	tx.n.Add(1)
	return tx.Tx.FindDevice(ctx, id)
}

// TestLoginReadsWhatItChecks: on the SQL stores a login reads only the
// user's and the device's fields its rules check (LoginUser, LoginDevice),
// not whole rows, and every rule still sees them: a locked or not hot
// desking user, a locked phone, a wrong PIN, the phone's own auto-logout
// policy, roaming and toggling.
func TestLoginReadsWhatItChecks(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.MustOpenFile(t, filepath.Join(t.TempDir(), "hotdesk.db"))
	defer db.Close()
	seedSQLite(t, db, 4) // users 1000–1003, phones HD00001–HD00004
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	until := now.Add(time.Hour)
	p, off := &until, false
	_, err := db.UpdateUser(ctx, "1002", hotdesk.UserUpdate{LockedUntil: &p})
	must(t, err)
	_, err = db.UpdateUser(ctx, "1003", hotdesk.UserUpdate{Hotdesk: &off})
	must(t, err)
	_, err = db.UpdateDevice(ctx, "HD00003", hotdesk.DeviceUpdate{LockedUntil: &p})
	must(t, err)
	auto := &hotdesk.AutoLogout{MaxDuration: "2h"}
	_, err = db.UpdateDevice(ctx, "HD00002", hotdesk.DeviceUpdate{AutoLogout: &auto})
	must(t, err)

	st := &wideReads{DB: db}
	svc := New(Options{Store: st, Now: siptest.NewClock(now).Now, Logger: slog.New(slog.DiscardHandler)})
	login := func(ext, dev, pin string) (*LoginResult, error) {
		return svc.Login(ctx, LoginRequest{Extension: ext, Device: dev, PIN: pin, CheckPIN: true, Toggle: true})
	}
	for _, tc := range []struct {
		ext, dev, pin string
		want          error
	}{
		{"1000", "HD00001", "1234", nil},
		{"1001", "HD00001", "9999", ErrBadPIN},
		{"1002", "HD00001", "1234", ErrLocked},         // the user's lock
		{"1003", "HD00001", "1234", ErrUserNotHotdesk}, // hot desking off
		{"1001", "HD00003", "1234", ErrLocked},         // the phone's lock
		{"1009", "HD00001", "1234", ErrUnknownUser},
		{"1001", "HD00009", "1234", ErrUnknownDevice},
	} {
		if _, err := login(tc.ext, tc.dev, tc.pin); !errors.Is(err, tc.want) {
			t.Errorf("%s at %s with %s: %v, want %v", tc.ext, tc.dev, tc.pin, err, tc.want)
		}
	}
	res, err := login("1000", "HD00002", "1234") // roams from HD00001
	must(t, err)
	if len(res.Ended) != 1 || res.Ended[0].Login.Device != "HD00001" || res.Ended[0].Reason != hotdesk.ReasonRoamed {
		t.Errorf("roaming ended %+v", res.Ended)
	}
	if l := res.Login; l.EndsAt == nil || !l.EndsAt.Equal(now.Add(2*time.Hour)) || l.Policy != PolicyMaxDuration {
		t.Errorf("login at a phone with its own policy: ends %v (%s), want %v (%s)", l.EndsAt, l.Policy, now.Add(2*time.Hour), PolicyMaxDuration)
	}
	if res, err := login("1000", "HD00002", "1234"); err != nil || !res.Toggled {
		t.Errorf("toggle: %+v, %v", res, err)
	}
	if err := svc.CanLogin(ctx, "1002"); !errors.Is(err, ErrLocked) {
		t.Errorf("CanLogin of a locked user: %v", err)
	}
	if n := st.n.Load(); n != 0 {
		t.Errorf("%d whole-row reads of a user or device, want none", n)
	}
}

// loginByReads is an SQLite store that counts its transactions' reads of
// a login by device (LoginByDevice).
type loginByReads struct {
	*sqlite.DB
	n atomic.Int32
}

func (w *loginByReads) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	return w.DB.InTx(ctx, func(tx hotdesk.Tx) error { return fn(&loginByReadsTx{Tx: tx.(*sqlstore.Tx), n: &w.n}) })
}

type loginByReadsTx struct {
	*sqlstore.Tx
	n *atomic.Int32
}

func (tx *loginByReadsTx) LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error) {
	tx.n.Add(1)
	return tx.Tx.LoginByDevice(ctx, device)
}

// TestLoginReadsPhoneWithItsLogin: on the SQL stores a login reads the
// phone's current login with the phone (LoginDeviceNow), one statement
// fewer in the one writer's critical section, and every rule still sees
// it: roaming ends the user's other login, a new user replaces the
// phone's, the same user again toggles, a login where it is without
// toggling changes nothing.
func TestLoginReadsPhoneWithItsLogin(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.MustOpenFile(t, filepath.Join(t.TempDir(), "hotdesk.db"))
	defer db.Close()
	seedSQLite(t, db, 3) // users 1000–1002, phones HD00001–HD00003
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	st := &loginByReads{DB: db}
	svc := New(Options{Store: st, Now: siptest.NewClock(now).Now, Logger: slog.New(slog.DiscardHandler)})
	login := func(ext, dev string, toggle bool) *LoginResult {
		t.Helper()
		res, err := svc.Login(ctx, LoginRequest{Extension: ext, Device: dev, PIN: "1234", CheckPIN: true, Toggle: toggle})
		must(t, err)
		return res
	}
	ended := func(res *LoginResult) (out []string) {
		for _, e := range res.Ended {
			out = append(out, e.Login.Extension+"@"+e.Login.Device+" "+e.Reason)
		}
		return out
	}
	if res := login("1000", "HD00001", true); res.Login.Device != "HD00001" || len(res.Ended) != 0 {
		t.Errorf("first login: %+v", res)
	}
	if res := login("1000", "HD00002", true); !slices.Equal(ended(res), []string{"1000@HD00001 " + hotdesk.ReasonRoamed}) {
		t.Errorf("roaming ended %v", ended(res))
	}
	if res := login("1001", "HD00002", true); !slices.Equal(ended(res), []string{"1000@HD00002 " + hotdesk.ReasonReplaced}) {
		t.Errorf("replacing ended %v", ended(res))
	}
	login("1000", "HD00003", true)
	if res := login("1000", "HD00002", true); !slices.Equal(ended(res), []string{
		"1000@HD00003 " + hotdesk.ReasonRoamed, "1001@HD00002 " + hotdesk.ReasonReplaced}) {
		t.Errorf("roaming onto a taken phone ended %v", ended(res))
	}
	if res := login("1000", "HD00002", false); res.Toggled || res.Login == nil || res.Login.Extension != "1000" || len(res.Ended) != 0 {
		t.Errorf("again without toggling: %+v", res)
	}
	if res := login("1000", "HD00002", true); !res.Toggled {
		t.Errorf("toggle: %+v", res)
	}
	ls, err := db.ListLogins(ctx)
	must(t, err)
	if len(ls) != 0 {
		t.Errorf("logins left: %+v", ls)
	}
	if n := st.n.Load(); n != 0 {
		t.Errorf("%d reads of a login by device in the transactions, want none", n)
	}
}
