package voicemail

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
)

// Caller is who leaves a message.
type Caller struct {
	Number string // extension or E.164; "" or "anonymous" when unknown
	Name   string
	Source string // ip:port the call came from, for the audit trail
}

// flushEvery is how often the recording is synced to the spool file.
const flushEvery = time.Second

// ErrNotEnabled is returned by Deposit for a user without voicemail.
var ErrNotEnabled = errors.New("voicemail: not enabled for this user")

// Deposit answers call for ext's mailbox: the greeting (recorded, or "the
// person at extension … is not available"), a tone, then a message
// recorded until the caller hangs up, presses #, is silent for the
// site's silence_seconds, or reaches max_seconds. A full mailbox tells the
// caller so and records nothing. It returns the message stored (nil when
// none: too short, mailbox full) once the call may be hung up; ctx is the
// call's (done when the caller hangs up).
func (s *Service) Deposit(ctx context.Context, call Call, ext string, from Caller) (*hotdesk.Voicemail, error) {
	st, vs := s.settings(ctx)
	set, err := s.promptSet(st.Lang)
	if err != nil {
		return nil, err
	}
	u, err := s.o.Store.FindUser(ctx, ext)
	if err != nil {
		return nil, fmt.Errorf("voicemail: mailbox %s: %w", ext, err)
	}
	if !u.Voicemail {
		return nil, ErrNotEnabled
	}
	if err := call.Answer(); err != nil {
		return nil, fmt.Errorf("voicemail: answer: %w", err)
	}
	sess := call.Session()
	n, o, err := s.o.Store.VoicemailCounts(ctx, ext)
	if err != nil {
		return nil, fmt.Errorf("voicemail: count: %w", err)
	}
	if n+o >= vs.Quota {
		s.log.Info("voicemail: mailbox full", "extension", ext, "messages", n+o, "quota", vs.Quota)
		return nil, sess.Play(ctx, set.Say(prompts.VMMailboxFull))
	}
	if err := sess.Play(ctx, append(s.greeting(ctx, ext, set), Beep()...)); err != nil {
		return nil, err
	}
	codec := sess.Codec()
	sp, err := s.newSpool(spoolMeta{Extension: ext, Caller: from.Number, CallerName: from.Name, Codec: codec,
		ReceivedAt: s.o.Now().UTC(), Source: from.Source})
	if err != nil {
		return nil, err
	}
	rec := media.NewRecorder(sp.raw, codec, vs.MaxSeconds*8000)
	sess.ClearDigits()
	sess.Record(rec)
	why := s.record(ctx, sess, rec, time.Duration(vs.SilenceSeconds)*time.Second)
	sess.Record(nil)
	rec.Stop()
	if err := rec.Flush(); err != nil {
		s.log.Warn("voicemail: flush spool", "extension", ext, "err", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	v, err := s.finish(sctx, sp, rec.Voiced())
	s.log.Info("voicemail: recording ended", "extension", ext, "why", why, "stored", v != nil, "err", err)
	if err != nil || ctx.Err() != nil {
		return v, err
	}
	return v, sess.Play(ctx, set.Say(prompts.Goodbye))
}

// greeting is the user's recorded greeting, or the generated one.
func (s *Service) greeting(ctx context.Context, ext string, set *prompts.Set) []int16 {
	b, err := s.o.Store.Greeting(ctx, ext)
	if err == nil {
		pcm, err := wav.Decode(b)
		if err == nil && len(pcm) > 0 {
			return pcm
		}
		s.log.Warn("voicemail: greeting unusable, generated one played", "extension", ext, "err", err)
	} else if hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		s.log.Warn("voicemail: greeting", "extension", ext, "err", err)
	}
	names := append([]string{prompts.VMPersonAt}, prompts.DigitNames(ext)...)
	return set.Say(append(names, prompts.VMUnavailable)...)
}

// record waits for the end of the recording and says why it ended,
// syncing the spool every second meanwhile.
func (s *Service) record(ctx context.Context, sess *media.Session, rec *media.Recorder, silence time.Duration) string {
	t := time.NewTicker(flushEvery / 4)
	defer t.Stop()
	lastFlush := time.Now()
	for {
		select {
		case <-ctx.Done():
			return "hangup"
		case <-sess.Done():
			return "hangup"
		case <-rec.Full():
			return "max_length"
		case k := <-sess.Digits():
			if k == '#' {
				return "hash"
			}
		case <-t.C:
			if rec.SilentFor() >= silence {
				return "silence"
			}
			if err := rec.Err(); err != nil && !errors.Is(err, media.ErrRecordingFull) {
				s.log.Warn("voicemail: recording failed", "err", err)
				return "error"
			}
			if time.Since(lastFlush) >= flushEvery {
				lastFlush = time.Now()
				if err := rec.Flush(); err != nil {
					s.log.Warn("voicemail: sync spool", "err", err)
				}
			}
		}
	}
}

// Beep is the tone before recording: 400 ms at 1 kHz after 100 ms of
// silence.
func Beep() []int16 {
	pcm := make([]int16, 800+3200)
	for i := 800; i < len(pcm); i++ {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	return pcm
}
