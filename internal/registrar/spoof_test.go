package registrar

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// mustPhoneFrom is mustPhone with the client's socket bound to localIP (any
// 127.0.0.x works on loopback): several source addresses without raw
// sockets.
func (h *harness) mustPhoneFrom(tb testing.TB, network, localIP, user, pass string) *phone {
	tb.Helper()
	addr := h.srv.UDPAddr().String()
	var local net.Addr = &net.UDPAddr{IP: net.ParseIP(localIP)}
	if network == "tcp" {
		addr = h.srv.TCPAddr().String()
		local = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	c, err := (&net.Dialer{LocalAddr: local}).Dial(network, addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &phone{tb: tb, network: network, conn: c, rd: bufio.NewReader(c), user: user, pass: pass,
		callID: fmt.Sprintf("call-%s-%d@test", user, branchSeq.Add(1))}
}

// Issue 11 item 8: blind REGISTERs "from" a victim address, answering a
// nonce the attacker got at its own address, used to count as failures of
// the victim address and blocked the office for 10 minutes. A nonce is now
// bound to the address (and transport) it was sent to: such a REGISTER
// gets a fresh challenge and counts against nobody.
func TestSpoofedSourceCannotBlockVictimAddress(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			store := newFakeStore()
			store.addDevice("HD00001", "s3cret")
			h := mustStart(t, store, newClock(), func(o *Options) { o.FailDelay = time.Millisecond })
			attacker := h.mustPhoneFrom(t, network, "127.0.0.3", "HD00001", "guess")
			spoofed := h.mustPhoneFrom(t, network, "127.0.0.2", "HD00001", "guess")
			res := attacker.request("REGISTER", "", 2*time.Second)
			mustStatus(t, res, 401)
			for i := range 25 {
				auth := attacker.authorization(res, "WWW-Authenticate", "REGISTER", "MD5")
				got := spoofed.request("REGISTER", "Authorization: "+auth+"\r\n", 2*time.Second)
				if got == nil || got.StatusCode != 401 {
					t.Fatalf("spoofed REGISTER %d: %v, want a fresh 401", i+1, got)
				}
			}
			if !h.reg.Allow("127.0.0.2:5060") {
				t.Fatal("victim address blocked by spoofed REGISTERs")
			}
			victim := h.mustPhoneFrom(t, network, "127.0.0.2", "HD00001", "s3cret")
			mustStatus(t, victim.register(victim.contact(), "MD5"), 200)
			// The attacker's own nonce still counts against the attacker.
			auth := attacker.authorization(res, "WWW-Authenticate", "REGISTER", "MD5")
			mustStatus(t, attacker.request("REGISTER", "Authorization: "+auth+"\r\n", 2*time.Second), 403)
		})
	}
}

// Guesses for one device from rotating addresses, each far below the
// per-source block, spend the device's budget: its digest is refused for a
// while (audited auth_device_blocked) even with the right password, other
// devices are unaffected, and the block ends.
func TestDeviceFailureBudgetAcrossAddresses(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD00001", "s3cret")
	store.addDevice("HD00002", "other")
	clock := newClock()
	h := mustStart(t, store, clock, nil)
	failures := 0
	for i := range 11 {
		p := h.mustPhoneFrom(t, "udp", fmt.Sprintf("127.0.0.%d", 3+i), "HD00001", "guess")
		for range 2 {
			mustStatus(t, p.register("", "MD5"), 403)
			failures++
		}
	}
	t.Logf("%d failures from 11 addresses", failures)
	owner := h.mustPhoneFrom(t, "udp", "127.0.0.2", "HD00001", "s3cret")
	mustStatus(t, owner.register(owner.contact(), "MD5"), 403)
	other := h.mustPhoneFrom(t, "udp", "127.0.0.2", "HD00002", "other")
	mustStatus(t, other.register(other.contact(), "MD5"), 200)
	if !h.reg.Allow("127.0.0.3:5060") {
		t.Fatal("a source with 2 failures is blocked")
	}
	clock.Advance(h.reg.opts.DeviceBlockFor + time.Second)
	mustStatus(t, owner.register(owner.contact(), "MD5"), 200)
	h.stop()
	kinds := store.auditKinds()
	if n := countOf(kinds, hotdesk.KindAuthDeviceBlocked); n != 1 {
		t.Fatalf("%d auth_device_blocked audits: %v", n, kinds)
	}
	if slices.Contains(kinds, hotdesk.KindAuthBlocked) {
		t.Fatalf("a source was blocked: %v", kinds)
	}
}

func countOf(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// A wrong password for a known device and any password for an unknown one
// do the same work: both compute HA1 (a dummy one for the unknown device)
// and the expected response and compare it in constant time, so timing
// does not tell which device ids exist.
func TestUnknownDeviceDoesSameWorkAsWrongPassword(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD00001", "s3cret")
	h := mustStart(t, store, newClock(), nil)
	ctx := context.Background()
	known, err := h.reg.secrets.get(ctx, "HD00001", h.clock.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	ghost, err := h.reg.secrets.get(ctx, "HD09999", h.clock.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if ghost.id != "" || len(ghost.ha1.MD5) != len(known.ha1.MD5) || len(ghost.ha1.SHA256) != len(known.ha1.SHA256) || ghost.ha1.MD5 == known.ha1.MD5 {
		t.Fatalf("unknown device secret %+v", ghost)
	}
	for _, user := range []string{"HD00001", "HD09999"} {
		before := h.reg.digestChecks.Load()
		p := h.mustPhone(t, "udp", user, "wrong")
		mustStatus(t, p.register("", "MD5"), 403)
		if d := h.reg.digestChecks.Load() - before; d != 1 {
			t.Fatalf("%s: %d digest checks, want 1", user, d)
		}
	}
}
