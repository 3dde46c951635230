package registrar

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	hd "github.com/hotdesk-pbx/hotdesk/internal/digest"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/icholy/digest"
)

// benchTx is a server transaction that only counts responses.
type benchTx struct {
	sip.ServerTransaction // nil: only Respond is used
	last                  int
}

func (t *benchTx) Respond(res *sip.Response) error {
	t.last = res.StatusCode
	_ = res.String() // what the transport would write
	return nil
}

// BenchmarkRefresh is one authenticated refresh REGISTER (credentials
// cached, binding live): parse, digest check, table update, 200 built
// and rendered. The client's digest is computed with the timer stopped.
func BenchmarkRefresh(b *testing.B) {
	store := newFakeStore()
	store.addDevice("1000", "secret-secret")
	// A bus keeps the credentials cached for CacheTTL (without one, 2 s: a
	// run longer than that sent REGISTERs to goroutines, answered out of
	// order, an earlier nonce-count then refused as replayed).
	r, err := New(Options{Store: store, Realm: testRealm, Logger: quietLogger(), CacheTTL: time.Hour, Bus: events.New()})
	if err != nil {
		b.Fatal(err)
	}
	const src = "127.0.0.1:5070"
	nonce := ""
	for _, h := range r.digest.Challenges(hd.Binding("UDP", src), false, time.Now()) {
		c, err := digest.ParseChallenge(h)
		if err != nil {
			b.Fatal(err)
		}
		nonce = c.Nonce
	}
	parser := sip.NewParser()
	msg := func(nc int) []byte {
		chal := &digest.Challenge{Realm: testRealm, Nonce: nonce, Algorithm: "MD5", QOP: []string{"auth"}}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + testRealm,
			Username: "1000", Password: "secret-secret", Count: nc, Cnonce: "6b8b4567"})
		if err != nil {
			b.Fatal(err)
		}
		return []byte(fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=z9hG4bK-%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:1000@%s>;tag=bench\r\nTo: <sip:1000@%s>\r\nCall-ID: bench-1@127.0.0.1\r\n"+
			"CSeq: %d REGISTER\r\nContact: <sip:1000@%s;transport=UDP>\r\nAuthorization: %s\r\n"+
			"Expires: 3600\r\nUser-Agent: sipp-bench\r\nContent-Length: 0\r\n\r\n",
			testRealm, src, nc, testRealm, testRealm, nc+1, src, cred.String()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }() // stores the first binding
	defer func() { cancel(); <-done }()
	// Run empties the cache when it starts following the bus: started
	// before that, the loop failed in 2 of 8 runs ("REGISTER nc=10: 401";
	// an uncached REGISTER is answered from a goroutine of its own).
	for !r.secrets.isWatching() {
		time.Sleep(time.Millisecond)
	}
	tx := &benchTx{}
	handle := func(nc int, h func(*sip.Request, sip.ServerTransaction)) {
		b.StopTimer()
		raw := msg(nc)
		b.StartTimer()
		m, err := parser.ParseSIP(raw)
		if err != nil {
			b.Fatal(err)
		}
		req := m.(*sip.Request)
		req.SetTransport("UDP")
		req.SetSource(src)
		h(req, tx)
		if tx.last != 200 {
			b.Fatalf("REGISTER nc=%d: %d", nc, tx.last)
		}
	}
	handle(1, r.handleRegister) // the first binding, stored before its 200
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		handle(i+2, r.handleRegisterRead) // as the read loop calls it
	}
}

// BenchmarkSweep10000 is the once-a-FlushInterval sweep of a table of
// 10,000 bindings that all expire in an hour (phones refresh before).
func BenchmarkSweep10000(b *testing.B) {
	r, err := New(Options{Store: newFakeStore(), Realm: testRealm, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	r.mu.Lock()
	for i := range 10000 {
		d := fmt.Sprintf("HD%05d", i)
		r.setLocked(d, []hotdesk.Binding{{Device: d, Contact: "sip:" + d + "@192.0.2.1:5060", Expires: now.Add(time.Hour)}})
	}
	r.mu.Unlock()
	for b.Loop() {
		r.sweep(now)
	}
}
