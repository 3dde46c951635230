package feature

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
)

// fakeRules is a tiny in-memory model of the desk rules: users with PINs,
// one login per device and per user.
type fakeRules struct {
	pins      map[string]string // ext → PIN
	disabled  map[string]bool   // ext → hot desking off
	at        map[string]string // device → ext
	fail      error             // every call fails with this
	logins    []desk.LoginRequest
	abandoned []string // "reason stage ext device source"
}

func newFakeRules() *fakeRules {
	return &fakeRules{pins: map[string]string{"201": "1234", "202": "5678", "203": "0000"},
		disabled: map[string]bool{"203": true}, at: map[string]string{}}
}

func (r *fakeRules) Login(_ context.Context, req desk.LoginRequest) (*desk.LoginResult, error) {
	r.logins = append(r.logins, req)
	if r.fail != nil {
		return nil, r.fail
	}
	pin, ok := r.pins[req.Extension]
	switch {
	case !ok:
		return nil, desk.ErrUnknownUser
	case r.disabled[req.Extension]:
		return nil, desk.ErrUserNotHotdesk
	case pin != req.PIN:
		return nil, desk.ErrBadPIN
	}
	if r.at[req.Device] == req.Extension && req.Toggle {
		delete(r.at, req.Device)
		return &desk.LoginResult{Login: &hotdesk.Login{Extension: req.Extension, Device: req.Device}, Toggled: true}, nil
	}
	for d, e := range r.at {
		if e == req.Extension {
			delete(r.at, d)
		}
	}
	r.at[req.Device] = req.Extension
	return &desk.LoginResult{Login: &hotdesk.Login{Extension: req.Extension, Device: req.Device}}, nil
}

func (r *fakeRules) Logout(_ context.Context, device, reason, source string) (*hotdesk.Login, error) {
	if r.fail != nil {
		return nil, r.fail
	}
	ext, ok := r.at[device]
	if !ok {
		return nil, desk.ErrNotLoggedIn
	}
	delete(r.at, device)
	return &hotdesk.Login{Extension: ext, Device: device}, nil
}

func (r *fakeRules) UserAt(_ context.Context, device string) (*hotdesk.User, error) {
	if r.fail != nil {
		return nil, r.fail
	}
	ext, ok := r.at[device]
	if !ok {
		return nil, desk.ErrNotLoggedIn
	}
	return &hotdesk.User{Extension: ext, Hotdesk: true}, nil
}

func (r *fakeRules) LoginAbandoned(_ context.Context, ext, device, reason, stage, source string) error {
	r.abandoned = append(r.abandoned, strings.Join([]string{reason, stage, ext, device, source}, " "))
	return nil
}

func (r *fakeRules) CanLogin(_ context.Context, ext string) error {
	_, known := r.pins[ext]
	switch {
	case r.fail != nil:
		return desk.ErrUnavailable
	case !known:
		return desk.ErrUnknownUser
	case r.disabled[ext]:
		return desk.ErrUserNotHotdesk
	}
	return nil
}

// scriptIO records prompts and returns scripted key strings ("" + timeout
// when the script runs out).
type scriptIO struct {
	keys   []string
	played []string
}

func (s *scriptIO) Play(_ context.Context, names ...string) error {
	s.played = append(s.played, strings.Join(names, "+"))
	return nil
}

func (s *scriptIO) Collect(context.Context) (string, error) {
	if len(s.keys) == 0 {
		return "", media.ErrTimeout
	}
	k := s.keys[0]
	s.keys = s.keys[1:]
	return k, nil
}

func TestFlow(t *testing.T) {
	fc := hotdesk.DefaultSettings().FeatureCodes
	const dev = "HD00001"
	loggedIn := "201/HD00001" // format ext/device of the state, "" = neutral
	tests := []struct {
		name    string
		dialled string
		before  string // "ext/device" logged in beforehand, or ""
		mode    string
		keys    []string
		fail    error
		played  []string
		after   string // login state of dev afterwards ("" neutral)
	}{
		// *35
		{"35 neutral prompted", "*35", "", "", []string{"201", "1234"}, nil,
			[]string{"enter_extension", "enter_pin", "logged_in_as+digit_2+digit_0+digit_1"}, "201"},
		{"35 logged in logs out", "*35", loggedIn, "", nil, nil, []string{"logged_out"}, ""},
		{"35 neutral unknown extension", "*35", "", "", []string{"999"}, nil,
			[]string{"enter_extension", "unknown_extension"}, ""},
		{"35 neutral no extension typed", "*35", "", "", nil, nil, []string{"enter_extension", "goodbye"}, ""},
		{"35 three wrong PINs", "*35", "", "", []string{"201", "1", "2", "3", "1234"}, nil,
			[]string{"enter_extension", "enter_pin", "incorrect_pin", "enter_pin", "incorrect_pin", "enter_pin", "incorrect_pin"}, ""},
		{"35 wrong PIN then right", "*35", "", "", []string{"201", "1", "1234"}, nil,
			[]string{"enter_extension", "enter_pin", "incorrect_pin", "enter_pin", "logged_in_as+digit_2+digit_0+digit_1"}, "201"},
		{"35 disabled user", "*35", "", "", []string{"203"}, nil, []string{"enter_extension", "not_enabled_extension"}, ""},
		// *35*E
		{"35E neutral", "*35*202", "", "", []string{"5678"}, nil,
			[]string{"enter_pin", "logged_in_as+digit_2+digit_0+digit_2"}, "202"},
		{"35E same user logs out", "*35*201", loggedIn, "", nil, nil, []string{"logged_out"}, ""},
		{"35E other user switches", "*35*202", loggedIn, "", []string{"5678"}, nil,
			[]string{"enter_pin", "logged_in_as+digit_2+digit_0+digit_2"}, "202"},
		{"35E PIN timeout", "*35*202", "", "", nil, nil, []string{"enter_pin", "goodbye"}, ""},
		// *35*E*P
		{"inline login", "*35*201*1234", "", "", nil, nil, []string{"logged_in_as+digit_2+digit_0+digit_1"}, "201"},
		{"inline toggle out", "*35*201*1234", loggedIn, "", nil, nil, []string{"logged_out"}, ""},
		{"inline switch", "*35*202*5678", loggedIn, "", nil, nil, []string{"logged_in_as+digit_2+digit_0+digit_2"}, "202"},
		{"inline wrong PIN ends", "*35*201*9999", "", "", nil, nil, []string{"incorrect_pin"}, ""},
		{"inline unknown", "*35*999*1234", "", "", nil, nil, []string{"unknown_extension"}, ""},
		{"inline locked", "*35*201*1234", "", "", nil, desk.ErrLocked, []string{"locked"}, ""},
		{"inline db down", "*35*201*1234", "", "", nil, desk.ErrUnavailable, []string{"service_unavailable"}, ""},
		{"inline personal phone", "*35*201*1234", "", hotdesk.ModePersonal, nil, nil, []string{"not_enabled_phone"}, ""},
		{"inline phone not hot desk (desk says)", "*35*201*1234", "", "", nil, desk.ErrDeviceNotHotdesk, []string{"not_enabled_phone"}, ""},
		// *77
		{"77 login", "*77*201*", "", "", []string{"1234"}, nil, []string{"enter_pin", "logged_in_as+digit_2+digit_0+digit_1"}, "201"},
		{"77 switch", "*77*202*", loggedIn, "", []string{"5678"}, nil, []string{"enter_pin", "logged_in_as+digit_2+digit_0+digit_2"}, "202"},
		{"77 same user stays", "*77*201*", loggedIn, "", []string{"1234"}, nil, []string{"enter_pin", "logged_in_as+digit_2+digit_0+digit_1"}, "201"},
		{"77 logout", "*77*5*", loggedIn, "", nil, nil, []string{"logged_out"}, ""},
		{"77 logout neutral", "*77*5*", "", "", nil, nil, []string{"nobody_logged_in"}, ""},
		{"77 db down", "*77*5*", loggedIn, "", nil, desk.ErrUnavailable, []string{"service_unavailable"}, "201"},
		{"77 personal phone", "*77*5*", "", hotdesk.ModePersonal, nil, nil, []string{"not_enabled_phone"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFakeRules()
			if tt.before != "" {
				ext, d, _ := strings.Cut(tt.before, "/")
				r.at[d] = ext
			}
			r.fail = tt.fail
			mode := tt.mode
			if mode == "" {
				mode = hotdesk.ModeHotdesk
			}
			code, ok := Parse(tt.dialled, fc)
			if !ok {
				t.Fatalf("Parse(%q) failed", tt.dialled)
			}
			io := &scriptIO{keys: tt.keys}
			f := &flow{rules: r, io: io, dev: &hotdesk.Device{ID: dev, Mode: mode}, source: "127.0.0.1:5060", now: time.Now}
			if err := f.run(context.Background(), code); err != nil {
				t.Fatalf("run: %v", err)
			}
			if !reflect.DeepEqual(io.played, tt.played) {
				t.Errorf("played %q, want %q", io.played, tt.played)
			}
			if got := r.at[dev]; got != tt.after {
				t.Errorf("after: %q logged in, want %q", got, tt.after)
			}
			for _, l := range r.logins {
				if !l.CheckPIN || l.Via != hotdesk.ViaPhone || l.Source == "" {
					t.Errorf("login request %+v: want CheckPIN, via phone, source", l)
				}
			}
		})
	}
}

func TestFlowStopsWhenCallerHangsUp(t *testing.T) {
	r := newFakeRules()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	io := &cancelIO{}
	f := &flow{rules: r, io: io, dev: &hotdesk.Device{ID: "HD1", Mode: hotdesk.ModeHotdesk}, now: time.Now}
	code, _ := Parse("*35", hotdesk.DefaultSettings().FeatureCodes)
	if err := f.run(ctx, code); !errors.Is(err, context.Canceled) {
		t.Fatalf("run = %v, want context.Canceled", err)
	}
	if len(r.logins) != 0 || io.plays != 1 {
		t.Errorf("logins %d, plays %d: want 0, 1", len(r.logins), io.plays)
	}
	if want := []string{"hangup extension  HD1 "}; !reflect.DeepEqual(r.abandoned, want) {
		t.Errorf("abandoned %q, want %q", r.abandoned, want)
	}
}

// TestFlowAuditsAbandonedLogins: a prompted login that ends before a PIN
// is tried is audited with why and at which question, never with digits.
func TestFlowAuditsAbandonedLogins(t *testing.T) {
	fc := hotdesk.DefaultSettings().FeatureCodes
	for _, tt := range []struct {
		dialled string
		keys    []string
		want    []string
	}{
		{"*35", nil, []string{"timeout extension  HD00001 127.0.0.1:5060"}},
		{"*35", []string{""}, []string{"no_input extension  HD00001 127.0.0.1:5060"}},
		{"*35", []string{"201"}, []string{"timeout pin 201 HD00001 127.0.0.1:5060"}},
		{"*77*202*", []string{"1111"}, []string{"timeout pin 202 HD00001 127.0.0.1:5060"}},
		{"*35*201", []string{"1234"}, nil},
		{"*35*201*1234", nil, nil},
	} {
		r := newFakeRules()
		code, _ := Parse(tt.dialled, fc)
		io := &scriptIO{keys: tt.keys}
		f := &flow{rules: r, io: io, dev: &hotdesk.Device{ID: "HD00001", Mode: hotdesk.ModeHotdesk},
			source: "127.0.0.1:5060", now: time.Now}
		if err := f.run(context.Background(), code); err != nil {
			t.Fatalf("%s: %v", tt.dialled, err)
		}
		if !reflect.DeepEqual(r.abandoned, tt.want) {
			t.Errorf("%s %q: abandoned %q, want %q", tt.dialled, tt.keys, r.abandoned, tt.want)
		}
	}
}

type cancelIO struct{ plays int }

func (c *cancelIO) Play(ctx context.Context, _ ...string) error { c.plays++; return nil }
func (c *cancelIO) Collect(ctx context.Context) (string, error) { return "", ctx.Err() }

func TestOutcomePrompts(t *testing.T) {
	if got := OutcomePrompts("2019", nil); !reflect.DeepEqual(got, []string{"logged_in_as", "digit_2", "digit_0", "digit_1", "digit_9"}) {
		t.Errorf("got %v", got)
	}
	if got := OutcomePrompts("", errors.New("boom")); !reflect.DeepEqual(got, []string{"service_unavailable"}) {
		t.Errorf("got %v", got)
	}
}
