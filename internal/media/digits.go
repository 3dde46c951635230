package media

import (
	"context"
	"fmt"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/follow"
	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
)

// Digits is the stream of keys pressed, from RTP telephone-events and
// InjectDigit alike. It is buffered, so keys pressed while a prompt plays
// wait here. CollectDigits and PlayCollect read the same channel; use
// either them or Digits, not both at once. The channel is never closed;
// select on Done as well.
func (s *Session) Digits() <-chan rune { return s.digits }

// InjectDigit adds a key received another way, such as a SIP INFO
// (application/dtmf-relay or application/dtmf). Keys other than 0-9, *, #
// and A-D are ignored.
func (s *Session) InjectDigit(r rune) {
	code, ok := dtmf.Code(r)
	if !ok {
		s.log.Debug("ignored non-DTMF key")
		return
	}
	r, _ = dtmf.Digit(code) // normalise a-d
	s.deliverFrom(keysINFO, r)
}

// Where key presses come from. A phone set to send both RFC 4733 events
// and SIP INFO (several offer that choice) reports each press twice, and
// the INFO copy may come seconds late, so no time window can pair them:
// the first way a key arrives is the one used for the rest of the call.
const (
	keysAny  = iota // no key yet
	keysRTP         // RFC 4733 telephone-events
	keysINFO        // InjectDigit (SIP INFO)
)

// deliverFrom delivers r if it came the way the call's keys come.
func (s *Session) deliverFrom(src int, r rune) {
	s.mu.Lock()
	if s.keysFrom == keysAny {
		s.keysFrom = src
	}
	ok := s.keysFrom == src
	s.mu.Unlock()
	if !ok {
		s.log.Debug("key from a second DTMF method ignored", "rtp", src == keysRTP)
		return
	}
	s.deliver(r)
}

// deliver never blocks: a key that does not fit is dropped.
func (s *Session) deliver(r rune) {
	select {
	case s.digits <- r:
	default:
		s.log.Warn("dtmf buffer full, key dropped")
	}
}

// ClearDigits discards keys pressed but not read yet.
func (s *Session) ClearDigits() { follow.Discard(s.digits) }

// CollectDigits reads keys until '#' (not included in the result) or until
// maxDigits keys were typed (<= 0: no limit). It waits at most first for the
// first key and inter between keys (<= 0: no limit). On timeout it returns
// what was typed with ErrTimeout; when ctx is done, with ctx.Err(); when the
// session closes, with ErrClosed. Keys already buffered count, so a caller
// who typed ahead during a prompt loses nothing.
func (s *Session) CollectDigits(ctx context.Context, maxDigits int, first, inter time.Duration) (string, error) {
	return s.collect(ctx, "", maxDigits, first, inter)
}

func (s *Session) collect(ctx context.Context, typed string, maxDigits int, first, inter time.Duration) (string, error) {
	wait := first
	if typed != "" {
		wait = inter
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var timeout <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			timeout = timer.C
		}
		select {
		case r := <-s.digits:
			if r == '#' {
				return typed, nil
			}
			typed += string(r)
			if maxDigits > 0 && len(typed) >= maxDigits {
				return typed, nil
			}
			wait = inter
		case <-timeout:
			return typed, ErrTimeout
		case <-ctx.Done():
			return typed, ctx.Err()
		case <-s.done:
			return typed, ErrClosed
		}
	}
}

// PlayCollect plays a prompt and collects keys like CollectDigits, with
// barge-in: the first key stops the prompt. The first-key timeout starts
// when the prompt has finished.
func (s *Session) PlayCollect(ctx context.Context, pcm []int16, maxDigits int, first, inter time.Duration) (string, error) {
	playCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	played := make(chan error, 1)
	go func() { played <- s.Play(playCtx, pcm) }()
	select {
	case r := <-s.digits:
		cancel()
		<-played
		if r == '#' {
			return "", nil
		}
		typed := string(r)
		if maxDigits > 0 && len(typed) >= maxDigits {
			return typed, nil
		}
		return s.collect(ctx, typed, maxDigits, first, inter)
	case err := <-played:
		if err != nil {
			return "", fmt.Errorf("media: prompt: %w", err)
		}
		return s.collect(ctx, "", maxDigits, first, inter)
	}
}
