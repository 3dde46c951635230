package b2bua

import (
	"context"
	"log/slog"
	"sync"
)

// touchParallel is how many logins one round of touches updates at once:
// their transactions then share commits (the store's group commit).
const touchParallel = 8

// toucher records call activity on the desks' logins (desk.Service.Touch,
// which moves an idle auto-logout deadline) behind the calls (issue 18):
// a call only marks its device, and one goroutine (run) touches the
// marked devices, each once however many calls it made meanwhile. Without
// run (or after it), put touches at once.
type toucher struct {
	touch func(ctx context.Context, device string) error
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]struct{}
	running bool
	kick    chan struct{}
}

func newToucher(touch func(ctx context.Context, device string) error, log *slog.Logger) *toucher {
	return &toucher{touch: touch, log: log, pending: map[string]struct{}{}, kick: make(chan struct{}, 1)}
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
		t.round()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.kick:
			t.round()
		}
	}
}

// round touches every marked device, touchParallel at a time.
func (t *toucher) round() {
	t.mu.Lock()
	devs := make([]string, 0, len(t.pending))
	for d := range t.pending {
		devs = append(devs, d)
	}
	clear(t.pending)
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
}

func (t *toucher) one(device string) {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	if err := t.touch(ctx, device); err != nil {
		t.log.Warn("b2bua: touch login", "device", device, "err", err)
	}
}
