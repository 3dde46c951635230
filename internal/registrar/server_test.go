package registrar

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

func newClock() *fakeClock { return siptest.NewClock(time.Unix(1_700_000_000, 0)) }

// sha256First opts in to SHA-256 ahead of MD5 (--digest SHA-256,MD5).
func sha256First(o *Options) { o.Algorithms = []string{"SHA-256", "MD5"} }

// TestDefaultDigestMD5Only: by default one challenge, MD5 (issue 10: baresip
// 1.0 fails on any SHA-256 challenge, sipp 3.6 reads only the first).
func TestDefaultDigestMD5Only(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), nil)
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	first := p.request("REGISTER", p.contact(), 2*time.Second)
	mustStatus(t, first, 401)
	chals := first.GetHeaders("WWW-Authenticate")
	if len(chals) != 1 || !strings.Contains(chals[0].Value(), "algorithm=MD5") {
		t.Fatalf("want one MD5 challenge, got %v", chals)
	}
}

func TestRegisterDigestUDPAndTCP(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		for _, alg := range []string{"MD5", "SHA-256"} {
			t.Run(network+"/"+alg, func(t *testing.T) {
				h := mustStartOne(t, "s3cret", newClock(), sha256First)
				store := h.store
				evs, cancel := h.bus.Subscribe(10)
				defer cancel()
				p := h.mustPhone(t, network, "HD00001", "s3cret")

				first := p.request("REGISTER", p.contact(), 2*time.Second)
				mustStatus(t, first, 401)
				chals := first.GetHeaders("WWW-Authenticate")
				if len(chals) != 2 || !strings.Contains(chals[0].Value(), "algorithm=SHA-256") ||
					!strings.Contains(chals[1].Value(), "algorithm=MD5") {
					t.Fatalf("want SHA-256 then MD5 challenges, got %v", chals)
				}
				for _, c := range chals {
					if !strings.Contains(c.Value(), `realm="pbx.test"`) || !strings.Contains(c.Value(), `qop="auth"`) {
						t.Fatalf("challenge %q lacks realm or qop", c.Value())
					}
				}
				auth := p.authorization(first, "WWW-Authenticate", "REGISTER", alg)
				res := p.request("REGISTER", "Authorization: "+auth+"\r\n"+p.contact(), 2*time.Second)
				mustStatus(t, res, 200)
				if c := res.GetHeaders("Contact"); len(c) != 1 {
					t.Fatalf("200 lists %d contacts, want 1", len(c))
				} else if v, _ := c[0].(*sip.ContactHeader).Params.Get("expires"); v != "3600" {
					t.Fatalf("200 contact expires=%q, want 3600", v)
				}
				if tag, _ := res.To().Params.Get("tag"); tag == "" {
					t.Error("200 has no To tag")
				}
				// A new device's binding is stored before the 200 OK.
				if got := store.storedBindings("HD00001"); len(got) != 1 {
					t.Fatalf("stored bindings right after 200: %v", got)
				}
				bs := h.reg.Contacts("HD00001")
				if len(bs) != 1 || bs[0].Transport != network || bs[0].Source != p.conn.LocalAddr().String() ||
					bs[0].UserAgent != "testphone/1" || bs[0].Node != "n1" {
					t.Fatalf("contacts %+v", bs)
				}
				select {
				case e := <-evs:
					if e.Kind != hotdesk.KindRegistered || e.Device != "HD00001" {
						t.Fatalf("event %+v", e)
					}
				case <-time.After(time.Second):
					t.Fatal("no registered event")
				}
			})
		}
	}
}

func TestUnknownDeviceGetsSameChallengeThenForbidden(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), nil)
	known := h.mustPhone(t, "udp", "HD00001", "s3cret").request("REGISTER", "", time.Second)
	ghost := h.mustPhone(t, "udp", "HD09999", "s3cret")
	unknown := ghost.request("REGISTER", "", time.Second)
	mustStatus(t, known, 401)
	mustStatus(t, unknown, 401)
	strip := func(r *sip.Response) []string {
		var out []string
		for _, h := range r.GetHeaders("WWW-Authenticate") {
			v := h.Value()
			i := strings.Index(v, "nonce=")
			j := strings.Index(v[i:], ",")
			out = append(out, v[:i]+v[i+j:])
		}
		return out
	}
	if !slices.Equal(strip(known), strip(unknown)) {
		t.Fatalf("challenges differ:\n%v\n%v", strip(known), strip(unknown))
	}
	auth := ghost.authorization(unknown, "WWW-Authenticate", "REGISTER", "MD5")
	mustStatus(t, ghost.request("REGISTER", "Authorization: "+auth+"\r\n", time.Second), 403)
}

func TestWrongPasswordForbidden(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), sha256First)
	p := h.mustPhone(t, "udp", "HD00001", "wrong")
	mustStatus(t, p.register(p.contact(), "SHA-256"), 403)
	if len(h.reg.Contacts("HD00001")) != 0 {
		t.Fatal("binding created with a wrong password")
	}
}

func TestStaleNonceAndReplay(t *testing.T) {
	clock := newClock()
	h := mustStartOne(t, "s3cret", clock, nil)
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	first := p.request("REGISTER", p.contact(), time.Second)
	auth := p.authorization(first, "WWW-Authenticate", "REGISTER", "MD5")
	mustStatus(t, p.request("REGISTER", "Authorization: "+auth+"\r\n"+p.contact(), time.Second), 200)

	// Same nonce and nonce-count again: refused with a fresh challenge, not stale.
	res := p.request("REGISTER", "Authorization: "+auth+"\r\n"+p.contact(), time.Second)
	mustStatus(t, res, 401)
	if strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale") {
		t.Fatal("replay answered with stale=true")
	}
	// A higher nonce-count on the same nonce is fine.
	auth2 := p.authorization(first, "WWW-Authenticate", "REGISTER", "MD5")
	mustStatus(t, p.request("REGISTER", "Authorization: "+auth2+"\r\n"+p.contact(), time.Second), 200)

	// After the nonce lifetime (30 s by default) a correct answer gets stale=true.
	clock.Advance(31 * time.Second)
	auth3 := p.authorization(first, "WWW-Authenticate", "REGISTER", "MD5")
	res = p.request("REGISTER", "Authorization: "+auth3+"\r\n"+p.contact(), time.Second)
	mustStatus(t, res, 401)
	if !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("expired nonce not answered with stale=true: %s", res)
	}
	// A wrong password on an expired nonce is a plain failure.
	p.pass = "wrong"
	auth4 := p.authorization(first, "WWW-Authenticate", "REGISTER", "MD5")
	mustStatus(t, p.request("REGISTER", "Authorization: "+auth4+"\r\n"+p.contact(), time.Second), 403)
}

func TestExpiryBounds(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), nil)
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	res := p.register(p.contact()+"Expires: 30\r\n", "MD5")
	mustStatus(t, res, 423)
	if v := res.GetHeader("Min-Expires"); v == nil || v.Value() != "60" {
		t.Fatalf("Min-Expires %v, want 60", v)
	}
	res = p.register(p.contact()+"Expires: 7200\r\n", "MD5")
	mustStatus(t, res, 200)
	if v, _ := res.Contact().Params.Get("expires"); v != "3600" {
		t.Fatalf("expires=%s, want capped 3600", v)
	}
	res = p.register(strings.TrimSuffix(p.contact(), "\r\n")+";expires=60\r\n", "MD5")
	mustStatus(t, res, 200)
	if v, _ := res.Contact().Params.Get("expires"); v != "60" {
		t.Fatalf("expires=%s, want 60", v)
	}
}

func TestContactsUnregisterAndCSeqOrder(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), nil)
	store := h.store
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	p.cseq = 100
	two := "Contact: <sip:HD00001@192.0.2.10:5060>, <sip:HD00001@192.0.2.11:5060>;expires=120\r\n"
	res := p.register(two, "MD5")
	mustStatus(t, res, 200)
	if n := len(res.GetHeaders("Contact")); n != 2 {
		t.Fatalf("200 lists %d contacts, want 2", n)
	}
	res = p.register("Contact: <sip:HD00001@192.0.2.10:5060>;expires=0\r\n", "MD5")
	mustStatus(t, res, 200)
	if got := h.reg.Contacts("HD00001"); len(got) != 1 || got[0].Contact != "sip:HD00001@192.0.2.11:5060" {
		t.Fatalf("after removing one: %+v", got)
	}
	// A REGISTER with an older CSeq for the same Call-ID changes nothing.
	p.cseq -= 10
	res = p.register("Contact: *\r\nExpires: 0\r\n", "MD5")
	mustStatus(t, res, 200)
	if len(h.reg.Contacts("HD00001")) != 1 {
		t.Fatal("out-of-order REGISTER was applied")
	}
	p.cseq += 20
	res = p.register("Contact: *\r\nExpires: 0\r\n", "MD5")
	mustStatus(t, res, 200)
	if len(h.reg.Contacts("HD00001")) != 0 || len(res.GetHeaders("Contact")) != 0 {
		t.Fatal("Contact: * did not unregister")
	}
	h.stop() // final flush
	if got := store.storedBindings("HD00001"); len(got) != 0 {
		t.Fatalf("store keeps %v after unregister", got)
	}
	if k := store.auditKinds(); !slices.Equal(k, []string{hotdesk.KindRegistered, hotdesk.KindUnregistered}) {
		t.Fatalf("audit %v", k)
	}
}

func TestRefreshIsWrittenBehindAndRestartKeepsBindings(t *testing.T) {
	clock := newClock()
	h := mustStartOne(t, "s3cret", clock, func(o *Options) { o.FlushInterval = time.Hour })
	store := h.store
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	stored := store.storedBindings("HD00001")
	clock.Advance(time.Minute)
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	if got := store.storedBindings("HD00001"); !got[0].Expires.Equal(stored[0].Expires) {
		t.Fatal("refresh was written synchronously")
	}
	if err := h.reg.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := store.storedBindings("HD00001"); !got[0].Expires.Equal(stored[0].Expires.Add(time.Minute)) {
		t.Fatalf("flush did not write the refresh: %v", got)
	}
	h.stop()

	h2 := mustStart(t, store, clock, nil)
	if got := h2.reg.Contacts("HD00001"); len(got) != 1 || got[0].Contact != stored[0].Contact {
		t.Fatalf("after restart: %+v", got)
	}
}

func TestSweepExpiresBindings(t *testing.T) {
	clock := newClock()
	h := mustStartOne(t, "s3cret", clock, func(o *Options) { o.FlushInterval = time.Hour })
	store := h.store
	evs, cancel := h.bus.Subscribe(10)
	defer cancel()
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	mustStatus(t, p.register(p.contact()+"Expires: 60\r\n", "MD5"), 200)
	<-evs
	clock.Advance(61 * time.Second)
	if len(h.reg.Contacts("HD00001")) != 0 {
		t.Fatal("expired binding still listed")
	}
	h.reg.sweep(clock.Now())
	if e := <-evs; e.Kind != hotdesk.KindUnregistered {
		t.Fatalf("event %+v", e)
	}
	h.reg.flush(context.Background())
	if len(store.storedBindings("HD00001")) != 0 {
		t.Fatal("expired binding not deleted from the store")
	}
}

// Issue 18: sweep walks the table only once its earliest expiry may have
// come, not every FlushInterval; a refresh before then moves the next
// walk to the refreshed expiry.
func TestSweepWalksOnlyFromTheEarliestExpiry(t *testing.T) {
	clock := newClock()
	h := mustStartOne(t, "s3cret", clock, func(o *Options) { o.FlushInterval = time.Hour })
	evs, cancel := h.bus.Subscribe(10)
	defer cancel()
	walks := func() int {
		h.reg.mu.Lock()
		defer h.reg.mu.Unlock()
		return h.reg.sweeps
	}
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	mustStatus(t, p.register(p.contact()+"Expires: 60\r\n", "MD5"), 200)
	<-evs
	clock.Advance(30 * time.Second)
	h.reg.sweep(clock.Now())
	if n := walks(); n != 0 {
		t.Fatalf("%d walks before the earliest expiry, want 0", n)
	}
	mustStatus(t, p.register(p.contact()+"Expires: 60\r\n", "MD5"), 200) // now expires at 90 s
	clock.Advance(31 * time.Second)
	h.reg.sweep(clock.Now()) // 61 s: the old expiry came, nothing expired
	h.reg.sweep(clock.Now().Add(20 * time.Second))
	if n := walks(); n != 1 || len(h.reg.Contacts("HD00001")) != 1 {
		t.Fatalf("%d walks by 81 s, want 1 (at 61 s); contacts %v", n, h.reg.Contacts("HD00001"))
	}
	clock.Advance(30 * time.Second)
	h.reg.sweep(clock.Now()) // 91 s: expired
	if n := walks(); n != 2 {
		t.Fatalf("%d walks by 91 s, want 2", n)
	}
	for e := range evs {
		if e.Kind == hotdesk.KindUnregistered {
			break
		}
	}
	h.reg.sweep(clock.Now().Add(time.Hour))
	if n := walks(); n != 2 {
		t.Fatalf("%d walks of an empty table, want 2", n)
	}
}

func TestStoreFailureOnNewRegistrationIs503(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), nil)
	store := h.store
	store.mu.Lock()
	store.fail = hotdesk.Errorf(hotdesk.EUNAVAILABLE, "database down")
	store.mu.Unlock()
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	mustStatus(t, p.register(p.contact(), "MD5"), 503)
}

// Issue 12: a database failure is one answer on every SIP path (the
// signaling table): a failed credentials lookup is 503 with Retry-After,
// as a failed binding write is, no longer 500.
func TestStoreFailureOnCredentialsLookupIs503(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), nil)
	store := h.store
	store.mu.Lock()
	store.findFail = errors.New("sql: connection refused")
	store.mu.Unlock()
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	res := p.register(p.contact(), "MD5")
	mustStatus(t, res, 503)
	if h := res.GetHeader("Retry-After"); h == nil || h.Value() != "5" {
		t.Fatalf("503 without Retry-After: %v", res)
	}
}

func TestChangedPasswordTakesEffectAfterCacheTTL(t *testing.T) {
	clock := newClock()
	h := mustStartOne(t, "old", clock, nil)
	store := h.store
	p := h.mustPhone(t, "udp", "HD00001", "old")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	store.addDevice("HD00001", "new")
	clock.Advance(3 * time.Second)
	mustStatus(t, p.register(p.contact(), "MD5"), 403)
	p.pass = "new"
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
}

func TestBruteForceIsSlowedThenBlocked(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), func(o *Options) {
		o.SlowAfter, o.BlockAfter, o.FailDelay = 2, 4, 150*time.Millisecond
	})
	store := h.store
	p := h.mustPhone(t, "udp", "HD00001", "wrong")
	mustStatus(t, p.register("", "MD5"), 403)
	start := time.Now()
	mustStatus(t, p.register("", "MD5"), 403) // second failure: now slowed
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("second failure answered after %v, want delayed", d)
	}
	p.register("", "MD5")
	p.register("", "MD5") // fourth: blocked
	if h.reg.Allow(p.conn.LocalAddr().String()) {
		t.Fatal("source still allowed")
	}
	if res := p.request("OPTIONS", "", 300*time.Millisecond); res != nil {
		t.Fatalf("blocked source got %d", res.StatusCode)
	}
	h.stop()
	if !slices.Contains(store.auditKinds(), hotdesk.KindAuthBlocked) {
		t.Fatalf("no auth_blocked audit: %v", store.auditKinds())
	}
}

func TestAuthenticateUsesProxyAuth(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), sha256First)
	h.srv.Handle(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
		if dev, ok := h.reg.Authenticate(req, tx); ok {
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			res.AppendHeader(sip.NewHeader("X-Device", dev.ID))
			tx.Respond(res)
		}
	})
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	res := p.request("MESSAGE", "", time.Second)
	mustStatus(t, res, 407)
	if len(res.GetHeaders("Proxy-Authenticate")) != 2 {
		t.Fatalf("407 without two Proxy-Authenticate: %s", res)
	}
	auth := p.authorization(res, "Proxy-Authenticate", "MESSAGE", "SHA-256")
	res = p.request("MESSAGE", "Proxy-Authorization: "+auth+"\r\n", time.Second)
	mustStatus(t, res, 200)
	if v := res.GetHeader("X-Device"); v == nil || v.Value() != "HD00001" {
		t.Fatalf("device header %v", v)
	}
}

func TestOptionsAnswered(t *testing.T) {
	h := mustStart(t, newFakeStore(), newClock(), nil)
	res := h.mustPhone(t, "tcp", "x", "").request("OPTIONS", "", time.Second)
	mustStatus(t, res, 200)
	if a := res.GetHeader("Allow"); a == nil || !strings.Contains(a.Value(), "REGISTER") {
		t.Fatalf("Allow %v", a)
	}
}
