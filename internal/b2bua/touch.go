package b2bua

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

const (
	// touchParallel is how many logins one round of touches updates at
	// once: their transactions then share commits (the store's group
	// commit).
	touchParallel = 8
	// touchEvery is how often at most one device's login is touched. An
	// idle timeout is at least a minute (internal/validate), so a device
	// touched within the last 10 s has its deadline at least 50 s away:
	// holding back the next touch that long cannot let it fire. It only
	// lets the logout come up to 10 s after the last call's timeout, and
	// the login's last_activity lag as long. A second here made the
	// touches a fixed cost of every busy second (issue 18: 200 phones in
	// calls meant 200 touches a second, 8.5% of the server's CPU at 300
	// calls/s, whatever the call rate); 10 s makes that a tenth.
	touchEvery = 10 * time.Second
	// touchPace is the least time between two rounds: the devices marked
	// meanwhile are touched in one round, touchParallel at a time, so
	// their transactions share commits (issue 18: a round per call made
	// most touches a commit of their own).
	touchPace = 100 * time.Millisecond
)

// toucher records call activity on the desks' logins (desk.Service.Touch,
// which moves an idle auto-logout deadline and sets the login's
// last_activity) behind the calls (issue 18): a call only marks its
// device, and one goroutine (run) touches the marked devices, each at
// most once per touchEvery however many calls it made meanwhile (the
// first at once, the rest once that time is over). Without run (or
// after it), put touches at once.
type toucher struct {
	touch func(ctx context.Context, device string) error
	log   *slog.Logger
	now   func() time.Time
	pace  time.Duration // touchPace
	every time.Duration // touchEvery

	mu      sync.Mutex
	pending map[string]struct{}
	last    map[string]time.Time // devices touched within touchEvery, when
	running bool
	kick    chan struct{}
}

func newToucher(touch func(ctx context.Context, device string) error, log *slog.Logger) *toucher {
	return &toucher{touch: touch, log: log, now: time.Now, pace: touchPace, every: touchEvery, pending: map[string]struct{}{}, last: map[string]time.Time{},
		kick: make(chan struct{}, 1)}
}

// put records activity on device.
func (t *toucher) put(device string) {
	t.mu.Lock()
	if !t.running {
		t.mu.Unlock()
		t.one(device)
		return
	}
	t.pending[device] = struct{}{}
	t.mu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// run touches marked devices until ctx is done, then those still marked.
func (t *toucher) run(ctx context.Context) {
	t.mu.Lock()
	t.running = true
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.running = false
		t.mu.Unlock()
		t.round(time.Time{})
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	pace := time.NewTimer(t.pace)
	pace.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.kick:
		case <-timer.C:
		}
		if wait := t.round(t.now()); wait > 0 {
			timer.Reset(wait)
		}
		pace.Reset(t.pace)
		select {
		case <-ctx.Done():
			return
		case <-pace.C:
		}
	}
}

// round touches the marked devices not touched within t.every of now
// (every marked device when now is zero), touchParallel at a time, and
// returns how long until the next one held back is due (0: none).
func (t *toucher) round(now time.Time) time.Duration {
	t.mu.Lock()
	var devs []string
	var next time.Duration
	for d := range t.pending {
		if at, ok := t.last[d]; ok && !now.IsZero() && now.Sub(at) < t.every {
			if w := t.every - now.Sub(at); next == 0 || w < next {
				next = w
			}
			continue
		}
		devs = append(devs, d)
		delete(t.pending, d)
	}
	for d, at := range t.last {
		if now.Sub(at) >= t.every {
			delete(t.last, d)
		}
	}
	for _, d := range devs {
		t.last[d] = now
	}
	t.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, touchParallel)
	for _, d := range devs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.one(d)
		}()
	}
	wg.Wait()
	return next
}

func (t *toucher) one(device string) {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	if err := t.touch(ctx, device); err != nil {
		t.log.Warn("b2bua: touch login", "device", device, "err", err)
	}
}
