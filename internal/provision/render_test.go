package provision

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const (
	testRealm = "pbx.example.com"
	testMAC   = "000413a1b2c3"
	otherMAC  = "805ec0d4e5f6"
)

// fakeClock is the shared test clock.
type fakeClock = siptest.Clock

func quietLogger() *slog.Logger { return siptest.QuietLogger() }

// fixture is an office with one hot desk phone per vendor, user 201 with BLF
// keys and speed dials, and a second device whose secrets must never leak.
func fixture(model string) *fakeStore {
	s, ctx := newFakeStore(), context.Background()
	s.editSettings(func(st *hotdesk.Settings) { st.Timezone = "Europe/Amsterdam" })
	s.must(s.CreateDevice(ctx, &hotdesk.Device{ID: "HD00001", MAC: testMAC, Model: model, Mode: hotdesk.ModeHotdesk,
		SIPPassword: `pw&<"x">`}))
	s.must(s.CreateDevice(ctx, &hotdesk.Device{ID: "HD00002", MAC: otherMAC, Model: model, Mode: hotdesk.ModeHotdesk,
		SIPPassword: "other-device-secret"}))
	s.must(s.CreateUser(ctx, &hotdesk.User{Extension: "201", Name: "Anna O'Neil & <Co>", Hotdesk: true,
		BLF:        []string{"202", "299"},
		SpeedDials: []hotdesk.SpeedDial{{Label: "Reception\nDesk", Number: "0201234567"}, {Number: "112"}}}))
	s.must(s.CreateUser(ctx, &hotdesk.User{Extension: "202", Name: "Bram de Vries"}))
	return s
}

func mustServer(tb testing.TB, s *fakeStore, clock *fakeClock) *Server {
	tb.Helper()
	srv, err := New(Options{Store: s, Logger: quietLogger(), Now: clock.Now, SIPHost: "192.0.2.10", SIPPort: 5060, Realm: testRealm,
		Algorithms: []string{"MD5", "SHA-256"}}) // --digest MD5,SHA-256: the tests answer both
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

func newClock() *fakeClock { return siptest.NewClock(time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)) }

func renderFor(tb testing.TB, s *fakeStore, vendorName string) []byte {
	tb.Helper()
	srv := mustServer(tb, s, newClock())
	ctx := context.Background()
	d, _ := s.FindDevice(ctx, "HD00001")
	u, err := srv.userAt(ctx, d)
	if err != nil {
		tb.Fatal(err)
	}
	st, _ := s.GetSettings(ctx)
	out, err := srv.vendors[vendorName].render(srv.buildView(ctx, d, u, st))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

var goldenNames = map[string]string{
	hotdesk.ModelSnom:        testMAC + ".xml",
	hotdesk.ModelYealink:     testMAC + ".cfg",
	hotdesk.ModelGrandstream: "cfg" + testMAC + ".xml",
}

func TestGolden(t *testing.T) {
	for _, vendorName := range []string{hotdesk.ModelSnom, hotdesk.ModelYealink, hotdesk.ModelGrandstream} {
		for _, state := range []string{"neutral", "loggedin"} {
			t.Run(vendorName+"/"+state, func(t *testing.T) {
				s := fixture(vendorName)
				if state == "loggedin" {
					s.login("HD00001", "201")
					s.editSettings(func(st *hotdesk.Settings) { st.Lang = "nl" })
				}
				got := renderFor(t, s, vendorName)
				checkSyntax(t, vendorName, got)
				if bytes.Contains(got, []byte("other-device-secret")) {
					t.Fatal("configuration contains another device's password")
				}
				path := filepath.Join("testdata", state, goldenNames[vendorName])
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from golden file (go test -update to accept):\n%s", path, got)
				}
			})
		}
	}
}

// checkSyntax parses XML with encoding/xml and the Yealink file as
// "key = value" lines after the version header.
func checkSyntax(tb testing.TB, vendorName string, b []byte) {
	tb.Helper()
	if vendorName == hotdesk.ModelYealink {
		checkYealink(tb, b)
		return
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		} else if err != nil {
			tb.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
	}
}

var yealinkLine = regexp.MustCompile(`^[a-z][a-z0-9_.]* = [^\r\n]*$`)

func checkYealink(tb testing.TB, b []byte) map[string]string {
	tb.Helper()
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case n == 1 && line != "#!version:1.0.0.1":
			tb.Fatalf("first line %q, want the version header", line)
		case n == 1, line == "", strings.HasPrefix(line, "#"):
		case !yealinkLine.MatchString(line):
			tb.Fatalf("line %d is not key = value: %q", n, line)
		default:
			k, v, _ := strings.Cut(line, " = ")
			if _, dup := kv[k]; dup {
				tb.Fatalf("duplicate key %s", k)
			}
			kv[k] = v
		}
	}
	return kv
}

// TestKeys checks the key layout semantically, independent of golden files.
func TestKeys(t *testing.T) {
	s := fixture(hotdesk.ModelYealink)
	neutral := checkYealink(t, renderFor(t, s, hotdesk.ModelYealink))
	s.login("HD00001", "201")
	in := checkYealink(t, renderFor(t, s, hotdesk.ModelYealink))
	tests := []struct {
		kv         map[string]string
		key, value string
	}{
		{neutral, "account.1.display_name", "HD00001"},
		{neutral, "account.1.user_name", "HD00001"},
		{neutral, "linekey.2.value", "*35"},
		{neutral, "linekey.2.label", "Login"},
		{neutral, "linekey.3.type", "0"},
		{in, "account.1.user_name", "HD00001"}, // still the device's own account
		{in, "account.1.display_name", "Anna O'Neil & <Co>"},
		{in, "linekey.2.label", "Logout"},
		{in, "linekey.2.value", "*35"},
		{in, "linekey.3.type", "16"},
		{in, "linekey.3.value", "202"},
		{in, "linekey.3.label", "Bram de Vries"},
		{in, "linekey.4.label", "299"}, // unknown extension: labelled by number
		{in, "linekey.5.type", "13"},
		{in, "linekey.5.label", "Reception Desk"}, // newline flattened
		{in, "linekey.6.label", "112"},
		{in, "linekey.7.type", "0"},
		{in, "local_time.time_zone", "+1"},
		{in, "local_time.start_time", "3/5/7/2"},
		{in, "local_time.end_time", "10/5/7/3"},
	}
	for _, tt := range tests {
		if got := tt.kv[tt.key]; got != tt.value {
			t.Errorf("%s = %q, want %q", tt.key, got, tt.value)
		}
	}
}

func TestPersonalDeviceHasNoLogoutKey(t *testing.T) {
	s := fixture(hotdesk.ModelYealink)
	mode, owner := hotdesk.ModePersonal, "201"
	if _, err := s.UpdateDevice(context.Background(), "HD00001", hotdesk.DeviceUpdate{Mode: &mode, Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	kv := checkYealink(t, renderFor(t, s, hotdesk.ModelYealink))
	if kv["linekey.2.type"] != "16" || kv["account.1.label"] != "201 Anna O'Neil & <Co>" {
		t.Fatalf("personal device: linekey.2.type=%s label=%s", kv["linekey.2.type"], kv["account.1.label"])
	}
}

func TestLogoutCode(t *testing.T) {
	fc := hotdesk.DefaultSettings().FeatureCodes
	if got := logoutCode(fc); got != "*35" {
		t.Fatalf("default logout code %q", got)
	}
	fc.Star35Enabled = false
	if got := logoutCode(fc); got != "*77*5*" {
		t.Fatalf("logout code with *35 off: %q", got)
	}
}
