package media

import (
	"context"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"
)

func TestRFC4733DigitsOnce(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "0 101")
	p.typeKeys(s.LocalPort(), "2013#")
	got, err := s.CollectDigits(context.Background(), 0, 2*time.Second, 2*time.Second)
	if err != nil || got != "2013" {
		t.Fatalf("got %q, %v", got, err)
	}
	select {
	case r := <-s.Digits():
		t.Fatalf("extra digit %q", r)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestLatchToSourceAddress(t *testing.T) {
	sdpPhone, natPhone := newPhone(t), newPhone(t)
	s := mustSession(t, sdpPhone, "0 101")
	natPhone.typeKeys(s.LocalPort(), "7")
	if d, err := s.CollectDigits(context.Background(), 1, time.Second, time.Second); d != "7" || err != nil {
		t.Fatalf("got %q, %v", d, err)
	}
	if got := s.RemoteAddr().Port; got != natPhone.port() {
		t.Fatalf("latched to port %d, want %d", got, natPhone.port())
	}
	if err := s.Play(context.Background(), tone(160)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := natPhone.read(time.Second); err != nil {
		t.Fatalf("RTP not sent to the latched address: %v", err)
	}
	// Once latched, packets from elsewhere are ignored.
	sdpPhone.typeKeys(s.LocalPort(), "9")
	if d, err := s.CollectDigits(context.Background(), 1, 150*time.Millisecond, 0); !errors.Is(err, ErrTimeout) {
		t.Fatalf("digit %q from a foreign address accepted (%v)", d, err)
	}
}

func TestInjectDigit(t *testing.T) {
	s := mustSession(t, nil, "")
	for _, r := range "12x3a#" {
		s.InjectDigit(r)
	}
	got, err := s.CollectDigits(context.Background(), 0, time.Second, time.Second)
	if err != nil || got != "123A" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestCollectDigits(t *testing.T) {
	tests := []struct {
		name     string
		keys     string
		max      int
		first    time.Duration
		inter    time.Duration
		want     string
		wantErr  error
		maxTaken time.Duration
	}{
		{"hash ends", "201#9", 0, time.Second, time.Second, "201", nil, time.Second},
		{"hash alone", "#", 0, time.Second, time.Second, "", nil, time.Second},
		{"max reached", "12345", 3, time.Second, time.Second, "123", nil, time.Second},
		{"first-digit timeout", "", 4, 80 * time.Millisecond, time.Second, "", ErrTimeout, 500 * time.Millisecond},
		{"inter-digit timeout", "12", 4, time.Second, 80 * time.Millisecond, "12", ErrTimeout, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSession(t, nil, "")
			for _, r := range tt.keys {
				s.InjectDigit(r)
			}
			start := time.Now()
			got, err := s.CollectDigits(context.Background(), tt.max, tt.first, tt.inter)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			if took := time.Since(start); took > tt.maxTaken {
				t.Fatalf("took %v", took)
			}
		})
	}
}

func TestCollectStops(t *testing.T) {
	s := mustSession(t, nil, "")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s.InjectDigit('4')
	if got, err := s.CollectDigits(ctx, 0, 0, 0); got != "4" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx: got %q, %v", got, err)
	}
	go func() { time.Sleep(30 * time.Millisecond); s.Close() }()
	if _, err := s.CollectDigits(context.Background(), 0, 0, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("close: %v", err)
	}
}

// Keys typed while a prompt plays are kept for the next CollectDigits.
func TestTypeAheadDuringPlay(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "0 101")
	go func() {
		time.Sleep(40 * time.Millisecond)
		p.typeKeys(s.LocalPort(), "35#")
	}()
	if err := s.Play(context.Background(), tone(1600)); err != nil {
		t.Fatal(err)
	}
	got, err := s.CollectDigits(context.Background(), 0, time.Second, time.Second)
	if err != nil || got != "35" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// PlayCollect: the first key stops the prompt (barge-in).
func TestPlayCollectBargeIn(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "0 101")
	go func() {
		if _, _, err := p.read(time.Second); err != nil { // prompt started
			return
		}
		p.typeKeys(s.LocalPort(), "1234#")
	}()
	start := time.Now()
	got, err := s.PlayCollect(context.Background(), tone(10*8000), 0, time.Second, time.Second)
	if err != nil || got != "1234" {
		t.Fatalf("got %q, %v", got, err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("prompt not interrupted: %v", took)
	}
	// Past what was in flight, the stream carries silence only.
	silent := 0
	for i := 0; i < 50 && silent < 5; i++ {
		pkt, _, err := p.read(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if isSilence(pkt) {
			silent++
		} else if silent > 0 {
			t.Fatal("prompt still playing after barge-in")
		}
	}
	if silent < 5 {
		t.Fatal("prompt still playing after barge-in")
	}

	// Without keys the first-key timeout runs from the end of the prompt.
	start = time.Now()
	got, err = s.PlayCollect(context.Background(), tone(8*160), 4, 100*time.Millisecond, time.Second)
	if took := time.Since(start); got != "" || !errors.Is(err, ErrTimeout) || took < 250*time.Millisecond {
		t.Fatalf("got %q, %v after %v", got, err, took)
	}
}

func TestOfferSetAnswer(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, nil, "")
	offer, err := s.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if parseSDP(t, offer).MediaDescriptions[0].MediaName.Port.Value != s.LocalPort() {
		t.Fatalf("offer port:\n%s", offer)
	}
	if err := s.SetAnswer(p.offer("8 101")); err != nil {
		t.Fatal(err)
	}
	if s.Codec() != "PCMA" {
		t.Fatalf("codec %q", s.Codec())
	}
	if err := s.Play(context.Background(), tone(160)); err != nil {
		t.Fatal(err)
	}
	if pkt, _, err := p.read(time.Second); err != nil || pkt.PayloadType != 8 {
		t.Fatalf("pkt %v, %v", pkt, err)
	}
}

func TestCloseFreesPortAndGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	p := newPhone(t)
	low := freeEvenPort(t, 4)
	pool := NewPortPool(low, low+3) // two ports: low, low+2
	var sessions []*Session
	for range 2 {
		s, err := NewSession(pool, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Answer(p.offer("0 101")); err != nil {
			t.Fatal(err)
		}
		go func() { _ = s.Play(context.Background(), tone(8000)) }()
		sessions = append(sessions, s)
	}
	if got := []int{sessions[0].LocalPort(), sessions[1].LocalPort()}; got[0] != low || got[1] != low+2 {
		t.Fatalf("ports %v, want %d and %d", got, low, low+2)
	}
	if _, err := NewSession(pool, "127.0.0.1"); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("third session: %v, want ErrNoPorts", err)
	}
	for _, s := range sessions {
		s.Close()
		s.Close() // idempotent
	}
	if pool.InUse() != 0 {
		t.Fatalf("%d ports still in use", pool.InUse())
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: low})
	if err != nil {
		t.Fatalf("port %d not closed: %v", low, err)
	}
	c.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Close, %d before", n, before)
	}
}

// A port another program holds is skipped.
func TestBindSkipsBusyPort(t *testing.T) {
	low := freeEvenPort(t, 4)
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: low})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pool := NewPortPool(low, low+2)
	s, err := NewSession(pool, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.LocalPort() != low+2 || pool.InUse() != 1 {
		t.Fatalf("port %d, in use %d", s.LocalPort(), pool.InUse())
	}
}

// freeEvenPort finds an even port with the next n-1 ports free on loopback.
func freeEvenPort(tb testing.TB, n int) int {
	tb.Helper()
	for range 50 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		if port+n > 65535 {
			continue
		}
		ok := true
		for p := port; p < port+n && ok; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				ok = false
				continue
			}
			c.Close()
		}
		if ok {
			return port
		}
	}
	tb.Fatal("no free port range")
	return 0
}

// sipp replays a DTMF capture verbatim: the same key twice arrives as two
// identical packet trains, and both presses count.
func TestVerbatimReplayCountsTwice(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "0 101")
	for range 2 {
		var seq uint16 = 7984
		p.press(s.LocalPort(), 13280, &seq, '1')
	}
	got, err := s.CollectDigits(context.Background(), 2, time.Second, time.Second)
	if err != nil || got != "11" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// TestOneDTMFMethodPerCall: a phone that sends each key both as an RFC
// 4733 event and as SIP INFO (the INFO copy possibly late) gets each key
// once: the method of the first key is the call's.
func TestOneDTMFMethodPerCall(t *testing.T) {
	t.Run("RFC 4733 first", func(t *testing.T) {
		p := newPhone(t)
		s := mustSession(t, p, "0 101")
		var seq uint16 = 100
		p.press(s.LocalPort(), 1000, &seq, '1')
		if d, err := s.CollectDigits(context.Background(), 1, time.Second, 0); d != "1" || err != nil {
			t.Fatalf("RTP key: %q %v", d, err)
		}
		s.InjectDigit('1') // its INFO copy
		p.press(s.LocalPort(), 1800, &seq, '2')
		s.InjectDigit('2')
		p.press(s.LocalPort(), 2600, &seq, '#')
		s.InjectDigit('#')
		if d, err := s.CollectDigits(context.Background(), 0, time.Second, 300*time.Millisecond); d != "2" || err != nil {
			t.Fatalf("got %q %v, want 2 then #", d, err)
		}
	})
	t.Run("INFO first", func(t *testing.T) {
		p := newPhone(t)
		s := mustSession(t, p, "0 101")
		var seq uint16 = 100
		s.InjectDigit('4')
		p.press(s.LocalPort(), 1000, &seq, '4')
		s.InjectDigit('#')
		p.press(s.LocalPort(), 1800, &seq, '#')
		if d, err := s.CollectDigits(context.Background(), 0, time.Second, 300*time.Millisecond); d != "4" || err != nil {
			t.Fatalf("got %q %v, want 4", d, err)
		}
		select {
		case r := <-s.Digits():
			t.Fatalf("key %q counted twice", r)
		case <-time.After(100 * time.Millisecond):
		}
	})
	t.Run("renegotiated without telephone-event", func(t *testing.T) {
		p := newPhone(t)
		s := mustSession(t, p, "0 101")
		var seq uint16 = 100
		p.press(s.LocalPort(), 1000, &seq, '1')
		if d, _ := s.CollectDigits(context.Background(), 1, time.Second, 0); d != "1" {
			t.Fatalf("RTP key %q", d)
		}
		if _, err := s.Answer(p.offer("0")); err != nil {
			t.Fatal(err)
		}
		s.InjectDigit('7')
		if d, err := s.CollectDigits(context.Background(), 1, time.Second, 0); d != "7" || err != nil {
			t.Fatalf("INFO key after telephone-event was dropped: %q %v", d, err)
		}
	})
}
