package feature_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// sippDir holds the scenario files, relative to this package.
var sippDir, _ = filepath.Abs(filepath.Join("..", "..", "test", "sipp"))

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sipp runs calls of scenario from device dev dialling code, one at a
// time, and returns sipp's error when a call failed.
func (p *pbx) sipp(tb testing.TB, scenario, dev, code string, calls int) error {
	tb.Helper()
	bin := siptest.MustSipp(tb)
	d, err := p.store.FindDevice(context.Background(), dev)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	inf := filepath.Join(dir, "users.csv")
	line := fmt.Sprintf("SEQUENTIAL\n%s;[authentication username=%s password=%s]\n", dev, dev, d.SIPPassword)
	if err := os.WriteFile(inf, []byte(line), 0o600); err != nil {
		tb.Fatal(err)
	}
	args := []string{p.addr(), "-sf", filepath.Join(sippDir, scenario), "-inf", inf, "-s", code,
		"-m", fmt.Sprint(calls), "-l", "1", "-t", "u1", "-i", "127.0.0.1", "-p", fmt.Sprint(freeUDPPort(tb)),
		"-mi", "127.0.0.1", "-mp", fmt.Sprint(freeUDPPort(tb)), "-nostdin", "-key", "domain", realm,
		"-timeout", "40s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log")}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		msgs, _ := os.ReadFile(filepath.Join(dir, "messages.log"))
		return fmt.Errorf("sipp %s %s: %w\n%s\nerrors:\n%s\nmessages:\n%s", scenario, code, err,
			tail(string(out), 3), errs, tail(string(msgs), 60))
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// sippPBX is a PBX with users 201 and 202 (PIN 1234), 203 (not hot desk),
// hot desk phones HD00001 and HD00002 and a personal phone SOFT1.
func sippPBX(t *testing.T) *pbx {
	p := mustPBX(t)
	p.mustUser(t, "201", "1234", true)
	p.mustUser(t, "202", "1234", true)
	p.mustUser(t, "203", "1234", false)
	for id, mode := range map[string]string{"HD00001": hotdesk.ModeHotdesk, "HD00002": hotdesk.ModeHotdesk, "SOFT1": hotdesk.ModePersonal} {
		d := &hotdesk.Device{ID: id, Mode: mode, SIPPassword: "pw-" + id}
		if mode == hotdesk.ModePersonal {
			d.Owner = "201"
		}
		if err := p.mem.CreateDevice(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// sippStep is one sipp run and the state expected afterwards.
type sippStep struct {
	scenario, dev, code string
	calls               int
	want                map[string]string // device → extension ("" neutral)
}

func inline(dev, code string, want map[string]string) sippStep {
	return sippStep{"login_inline.xml", dev, code, 1, want}
}

func TestSippFeatureCodes(t *testing.T) {
	t.Parallel()
	n1, n2 := "HD00001", "HD00002"
	tests := []struct {
		name   string
		steps  []sippStep
		audits []string // kind/reason that must be in the audit trail
	}{
		{"inline login", []sippStep{inline(n1, "*35*201*1234", map[string]string{n1: "201"})}, []string{"login/phone"}},
		{"wrong PIN", []sippStep{inline(n1, "*35*201*9876", map[string]string{n1: ""})}, []string{"login_failed/bad_pin"}},
		{"lockout", []sippStep{
			{"login_inline.xml", n1, "*35*201*9876", 5, map[string]string{n1: ""}},
			inline(n2, "*35*201*1234", map[string]string{n2: ""}),
		}, []string{"locked/bad_pin", "login_failed/locked"}},
		{"roaming", []sippStep{
			inline(n1, "*35*201*1234", map[string]string{n1: "201"}),
			inline(n2, "*35*201*1234", map[string]string{n1: "", n2: "201"}),
		}, []string{"logout/roamed"}},
		{"identity switch", []sippStep{
			inline(n1, "*35*201*1234", map[string]string{n1: "201"}),
			inline(n1, "*35*202*1234", map[string]string{n1: "202"}),
		}, []string{"logout/replaced"}},
		{"toggle out", []sippStep{
			inline(n1, "*35*201*1234", map[string]string{n1: "201"}),
			inline(n1, "*35*201*1234", map[string]string{n1: ""}),
		}, []string{"logout/user"}},
		{"prompted *35 with RTP keys", []sippStep{
			{"login_prompted_ext.xml", n1, "*35", 1, map[string]string{n1: "202"}},
			inline(n1, "*35", map[string]string{n1: ""}), // logged in: *35 logs out
		}, []string{"login/phone", "logout/user"}},
		{"prompted *35*E switch", []sippStep{
			inline(n1, "*35*201*1234", map[string]string{n1: "201"}),
			{"login_prompted_pin.xml", n1, "*35*202", 1, map[string]string{n1: "202"}},
			inline(n1, "*35*202", map[string]string{n1: ""}), // E = U: log out
		}, []string{"logout/replaced", "logout/user"}},
		{"*77 family", []sippStep{
			{"login_prompted_pin.xml", n1, "*77*202*", 1, map[string]string{n1: "202"}},
			inline(n1, "*77*5*", map[string]string{n1: ""}),
			inline(n1, "*77*5*", map[string]string{n1: ""}), // nobody logged in
		}, []string{"login/phone", "logout/user"}},
		{"personal phone refused", []sippStep{inline("SOFT1", "*35*201*1234", map[string]string{"SOFT1": ""})}, nil},
		{"user not hot desk", []sippStep{inline(n1, "*35*203*1234", map[string]string{n1: ""})}, []string{"login_failed/user_not_hotdesk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := sippPBX(t)
			for i, s := range tt.steps {
				if err := p.sipp(t, s.scenario, s.dev, s.code, s.calls); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				for dev, ext := range s.want {
					if got := p.loginAt(t, dev); got != ext {
						t.Fatalf("step %d (%s on %s): %s has %q, want %q", i, s.code, s.dev, dev, got, ext)
					}
				}
			}
			p.checkAudit(t, tt.audits)
			p.waitIdle(t, 2*time.Second)
		})
	}
}

// checkAudit asserts each "kind/reason" occurs in the audit trail.
func (p *pbx) checkAudit(t *testing.T, want []string) {
	t.Helper()
	es, err := p.store.FindAudit(context.Background(), hotdesk.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range es {
		have[e.Kind+"/"+e.Reason] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("audit has no %s; has %v", w, have)
		}
	}
}
