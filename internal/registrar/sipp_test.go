package registrar

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// mustSipp runs one call of scenario against h for user;password over
// transport ("udp" or "tcp") and fails the test when the call failed.
func mustSipp(tb testing.TB, h *harness, scenario, transport, user, password string, keys ...string) {
	tb.Helper()
	mode, addr := "u1", h.srv.UDPAddr().String()
	if transport == "tcp" {
		mode, addr = "t1", h.srv.TCPAddr().String()
	}
	args := []string{"-t", mode, "-key", "domain", testRealm}
	if !slices.Contains(keys, "expires") {
		keys = append(keys, "expires", "3600")
	}
	for i := 0; i+1 < len(keys); i += 2 {
		args = append(args, "-key", keys[i], keys[i+1])
	}
	if _, err := (siptest.Sipp{Scenario: scenario, Remote: addr, User: user, Password: password, Args: args, Timeout: 10 * time.Second}).Run(tb); err != nil {
		tb.Fatal(err)
	}
}

func sippTransports(t *testing.T, f func(t *testing.T, transport string)) {
	if runtime.GOOS != "linux" {
		t.Skip("sipp tests run on Linux")
	}
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) { f(t, tr) })
	}
}

// TestSippRegister runs with the default digest: sipp 3.6 answers only the
// first challenge and knows only MD5, so it registers only if MD5 is the
// default.
func TestSippRegister(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		h := mustStartOne(t, "s3cret", newClock(), nil)
		mustSipp(t, h, "register_ok.xml", tr, "HD00001", "s3cret")
		bs := h.reg.Contacts("HD00001")
		if len(bs) != 1 || bs[0].Transport != tr || bs[0].UserAgent != "sipp" {
			t.Fatalf("contacts after sipp: %+v", bs)
		}
	})
}

func TestSippWrongPasswordAndUnknownDevice(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		h := mustStartOne(t, "s3cret", newClock(), nil)
		mustSipp(t, h, "register_forbidden.xml", tr, "HD00001", "wrong")
		mustSipp(t, h, "register_forbidden.xml", tr, "HD09999", "s3cret")
		if len(h.reg.Contacts("HD00001")) != 0 {
			t.Fatal("binding after wrong password")
		}
	})
}

func TestSippExpiryBounds(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		clock := newClock()
		h := mustStartOne(t, "s3cret", clock, nil)
		mustSipp(t, h, "register_too_brief.xml", tr, "HD00001", "s3cret", "expires", "30")
		if len(h.reg.Contacts("HD00001")) != 0 {
			t.Fatal("binding after 423")
		}
		mustSipp(t, h, "register_ok.xml", tr, "HD00001", "s3cret", "expires", "86400")
		bs := h.reg.Contacts("HD00001")
		if len(bs) != 1 || !bs[0].Expires.Equal(clock.Now().Add(time.Hour)) {
			t.Fatalf("want one binding capped at 3600s, got %+v", bs)
		}
	})
}

func TestSippUnregister(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		h := mustStartOne(t, "s3cret", newClock(), nil)
		mustSipp(t, h, "register_unregister.xml", tr, "HD00001", "s3cret")
		if bs := h.reg.Contacts("HD00001"); len(bs) != 0 {
			t.Fatalf("still registered: %+v", bs)
		}
	})
}

func TestSippRestartKeepsBindings(t *testing.T) {
	sippTransports(t, func(t *testing.T, tr string) {
		clock := newClock()
		h := mustStartOne(t, "s3cret", clock, nil)
		store := h.store
		mustSipp(t, h, "register_ok.xml", tr, "HD00001", "s3cret")
		before := h.reg.Contacts("HD00001")
		h.stop()
		h2 := mustStart(t, store, clock, nil)
		after := h2.reg.Contacts("HD00001")
		if len(after) != 1 || after[0].Contact != before[0].Contact || !after[0].Expires.Equal(before[0].Expires) {
			t.Fatalf("before restart %+v, after %+v", before, after)
		}
	})
}
