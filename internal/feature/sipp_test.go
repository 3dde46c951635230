package feature_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// sipp runs calls of scenario from device dev dialling code, one at a
// time, and returns sipp's error when a call failed.
func (p *pbx) sipp(tb testing.TB, scenario, dev, code string, calls int) error {
	tb.Helper()
	d, err := p.store.FindDevice(context.Background(), dev)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = siptest.Sipp{Scenario: scenario, Remote: p.addr(), User: dev, Password: d.SIPPassword, Timeout: 40 * time.Second,
		Args: []string{"-s", code, "-m", fmt.Sprint(calls), "-l", "1", "-key", "domain", realm}}.Run(tb)
	return err
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
