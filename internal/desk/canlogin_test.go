package desk

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCanLogin: the check a phone asks before prompting for a PIN applies
// the desk's own user rules (exists, may hot desk, not locked), so feature
// no longer repeats them.
func TestCanLogin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	until := f.clock.Now().Add(time.Minute)
	f.store.users["203"].LockedUntil = &until
	for ext, want := range map[string]error{"201": nil, "299": ErrUnknownUser, "209": ErrUserNotHotdesk, "203": ErrLocked} {
		if err := f.svc.CanLogin(ctx, ext); !errors.Is(err, want) && err != want {
			t.Errorf("CanLogin(%s) = %v, want %v", ext, err, want)
		}
	}
	f.clock.Advance(2 * time.Minute)
	if err := f.svc.CanLogin(ctx, "203"); err != nil {
		t.Errorf("lock over: %v", err)
	}
}
