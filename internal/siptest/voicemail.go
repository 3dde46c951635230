package siptest

import (
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
)

// MustLeaveMessage dials ext, which forwards to voicemail, waits for the
// greeting and its tone to end and says a 440 Hz tone for d; the caller
// is left on the line. A failed dial or send fails the test.
func (p *Phone) MustLeaveMessage(tb testing.TB, ext string, d time.Duration) *Call {
	tb.Helper()
	c, err := p.Dial(ext)
	if err != nil {
		tb.Fatal(err)
	}
	c.Record(400*time.Millisecond, 15*time.Second) // greeting and tone
	if err := c.Media.SendAudio(0, mediatest.Tone(440, d)); err != nil {
		tb.Fatal(err)
	}
	return c
}

// MustOpenMailbox dials the mailbox (*97) and enters pin and # as RFC 4733
// digits; the caller is left in the mailbox menu.
func (p *Phone) MustOpenMailbox(tb testing.TB, pin string) *Call {
	tb.Helper()
	c, err := p.Dial("*97")
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.SendKeysRTP(pin + "#"); err != nil {
		tb.Fatal(err)
	}
	return c
}
