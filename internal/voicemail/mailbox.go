package voicemail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
)

const (
	// pinTries is how many PINs one call may try, as for logins.
	pinTries = 3
	// keyTries is how many times a menu is asked without an answer.
	keyTries = 3
	// maxGreeting bounds a recorded greeting.
	maxGreeting = 60 * 8000
)

// Open runs the mailbox dialogue on call: it asks for the extension when
// ext is "" (*98), then for the user's hot desk PIN (checked by the desk
// rules, so wrong PINs count toward the lockout), then plays the messages
// and the menu. device and source identify the calling phone for the
// lockout and the audit trail. It returns when the call may be hung up.
func (s *Service) Open(ctx context.Context, call Call, ext, device, source string) error {
	st, _ := s.settings(ctx)
	set, err := s.promptSet(st.Lang)
	if err != nil {
		return err
	}
	d := &dialogue{s: s, call: call, set: set, device: device, source: source, loc: location(st.Timezone)}
	d.first, d.inter = digitTimeouts(st)
	if err := call.Answer(); err != nil {
		return fmt.Errorf("voicemail: answer: %w", err)
	}
	d.sess = call.Session()
	if ext == "" {
		if ext, err = d.collect(ctx, prompts.EnterExtension); err != nil || ext == "" {
			return d.bye(ctx, err)
		}
	}
	d.ext = ext
	ok, err := d.login(ctx)
	if !ok || err != nil {
		return err
	}
	return d.run(ctx)
}

// dialogue is one mailbox call.
type dialogue struct {
	s            *Service
	call         Call
	sess         *media.Session
	set          *prompts.Set
	ext          string
	device       string
	source       string
	loc          *time.Location
	first, inter time.Duration
	recorded     []byte // greeting just recorded (G.711 WAV)
}

func digitTimeouts(st hotdesk.Settings) (first, inter time.Duration) {
	p, def := st.Prompts, hotdesk.DefaultSettings().Prompts
	if p.FirstDigitSeconds <= 0 {
		p.FirstDigitSeconds = def.FirstDigitSeconds
	}
	if p.InterDigitSeconds <= 0 {
		p.InterDigitSeconds = def.InterDigitSeconds
	}
	return time.Duration(p.FirstDigitSeconds) * time.Second, time.Duration(p.InterDigitSeconds) * time.Second
}

func location(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil && tz != "" {
		return loc
	}
	return time.UTC
}

// say plays named prompts.
func (d *dialogue) say(ctx context.Context, names ...string) error {
	return d.sess.Play(ctx, d.set.Say(names...))
}

// bye ends the call: goodbye after a timeout or an empty entry, nothing
// when the caller hung up.
func (d *dialogue) bye(ctx context.Context, err error) error {
	if ctx.Err() != nil || (err != nil && !errors.Is(err, media.ErrTimeout)) {
		return err
	}
	return d.say(ctx, prompts.Goodbye)
}

// collect plays a prompt and reads keys up to '#'.
func (d *dialogue) collect(ctx context.Context, prompt string) (string, error) {
	return d.sess.PlayCollect(ctx, d.set.Say(prompt), 0, d.first, d.inter)
}

// login checks the mailbox exists and has voicemail, then asks for the PIN.
func (d *dialogue) login(ctx context.Context) (bool, error) {
	u, err := d.s.o.Store.FindUser(ctx, d.ext)
	switch {
	case hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND:
		return false, d.say(ctx, prompts.UnknownExtension, prompts.Goodbye)
	case err != nil:
		d.s.log.Warn("voicemail: find user", "extension", d.ext, "err", err)
		return false, d.say(ctx, prompts.ServiceUnavailable)
	case !u.Voicemail:
		return false, d.say(ctx, prompts.VMNotEnabled, prompts.Goodbye)
	}
	for try := 1; ; try++ {
		pin, err := d.collect(ctx, prompts.EnterPIN)
		if err != nil || pin == "" {
			return false, d.bye(ctx, err)
		}
		err = d.s.o.PIN.VerifyPIN(ctx, d.ext, pin, d.device, d.source)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, desk.ErrBadPIN):
			if try >= pinTries {
				return false, d.say(ctx, prompts.IncorrectPIN, prompts.Goodbye)
			}
			if err := d.say(ctx, prompts.IncorrectPIN); err != nil {
				return false, err
			}
		case errors.Is(err, desk.ErrLocked):
			return false, d.say(ctx, prompts.Locked)
		case errors.Is(err, desk.ErrUnknownUser):
			return false, d.say(ctx, prompts.UnknownExtension, prompts.Goodbye)
		default:
			d.s.log.Warn("voicemail: verify pin", "extension", d.ext, "err", err)
			return false, d.say(ctx, prompts.ServiceUnavailable)
		}
	}
}

// run plays the messages and the menu until the caller is done.
func (d *dialogue) run(ctx context.Context) error {
	msgs, err := d.s.o.Store.ListVoicemail(ctx, d.ext)
	if err != nil {
		d.s.log.Warn("voicemail: list", "extension", d.ext, "err", err)
		return d.say(ctx, prompts.ServiceUnavailable)
	}
	m := &menu{msgs: msgs}
	audio := d.set.Say(d.summary(msgs)...)
	ops := m.start()
	for misses := 0; misses < keyTries; {
		pre, hangup, err := d.do(ctx, m, ops)
		if err != nil {
			return err
		}
		audio = append(audio, pre...)
		if hangup {
			return d.say(ctx, prompts.Goodbye)
		}
		audio = append(audio, d.set.Say(m.prompt())...)
		k, err := d.sess.PlayCollect(ctx, audio, 1, d.first, d.inter)
		audio = nil
		if errors.Is(err, media.ErrTimeout) || (err == nil && k == "") {
			misses++
			ops = nil
			continue
		}
		if err != nil {
			return err
		}
		misses = 0
		ops = m.key(rune(k[0]))
	}
	return d.say(ctx, prompts.Goodbye)
}

// summary is "you have N new messages and M saved messages".
func (d *dialogue) summary(msgs []*hotdesk.Voicemail) []string {
	n := 0
	for _, v := range msgs {
		if v.New {
			n++
		}
	}
	o := len(msgs) - n
	if n+o == 0 {
		return []string{prompts.VMNoMessages}
	}
	names := []string{prompts.VMYouHave}
	if n > 0 {
		names = append(append(names, number(n)...), prompts.VMNewMessages)
	}
	if n > 0 && o > 0 {
		names = append(names, prompts.VMAnd)
	}
	if o > 0 {
		names = append(append(names, number(o)...), prompts.VMSavedMessages)
	}
	return names
}

// number names the prompts that say n.
func number(n int) []string {
	if n >= 0 && n < 60 {
		return []string{prompts.Number(n)}
	}
	return prompts.DigitNames(fmt.Sprint(n))
}

// do carries out ops and returns the audio they produce (played before
// the next prompt, so a key cuts it short) and whether to hang up.
func (d *dialogue) do(ctx context.Context, m *menu, ops []op) ([]int16, bool, error) {
	var audio []int16
	for _, o := range ops {
		switch o.Kind {
		case opHangup:
			return audio, true, nil
		case opPlay:
			audio = append(audio, d.message(ctx, m.msgs[o.Index])...)
		case opDelete:
			audio = append(audio, d.result(ctx, d.s.Delete(ctx, d.ext, o.ID, d.source), prompts.VMDeleted)...)
		case opSave:
			audio = append(audio, d.result(ctx, d.s.Mark(ctx, d.ext, o.ID, false, d.source), prompts.VMSaved)...)
		case opPlayGreeting:
			audio = append(audio, d.storedGreeting(ctx)...)
		case opDeleteGreeting:
			err := d.s.o.Store.DeleteGreeting(ctx, d.ext)
			if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
				audio = append(audio, d.set.Say(prompts.VMNoGreeting)...)
				break
			}
			if err == nil {
				d.s.Changed(ctx, d.ext, 0, hotdesk.VoicemailGreeting, d.source)
			}
			audio = append(audio, d.result(ctx, err, prompts.VMGreetingDeleted)...)
		case opRecordGreeting:
			if err := d.recordGreeting(ctx); err != nil {
				return nil, false, err
			}
		case opPlayRecorded:
			if pcm, err := wav.Decode(d.recorded); err == nil {
				audio = append(audio, pcm...)
			}
		case opKeepGreeting:
			if d.recorded == nil {
				audio = append(audio, d.set.Say(prompts.VMGreetingDiscarded)...)
				break
			}
			err := d.s.o.Store.PutGreeting(ctx, d.ext, d.recorded)
			if err == nil {
				d.s.Changed(ctx, d.ext, 0, hotdesk.VoicemailGreeting, d.source)
			}
			d.recorded = nil
			audio = append(audio, d.result(ctx, err, prompts.VMGreetingSaved)...)
		case opDiscardGreeting:
			d.recorded = nil
			audio = append(audio, d.set.Say(prompts.VMGreetingDiscarded)...)
		}
	}
	return audio, false, ctx.Err()
}

// result is the confirmation prompt, or "service unavailable" on err.
func (d *dialogue) result(ctx context.Context, err error, ok string) []int16 {
	if err != nil {
		d.s.log.Warn("voicemail: mailbox change", "extension", d.ext, "err", err)
		return d.set.Say(prompts.ServiceUnavailable)
	}
	return d.set.Say(ok)
}

// message announces a message (new or saved, when, from whom) and plays it.
func (d *dialogue) message(ctx context.Context, v *hotdesk.Voicemail) []int16 {
	at := v.ReceivedAt.In(d.loc)
	names := []string{prompts.VMSavedMessage}
	if v.New {
		names[0] = prompts.VMNewMessage
	}
	names = append(names, prompts.VMReceived, prompts.Number(at.Day()), prompts.Month(int(at.Month())),
		prompts.VMAt, prompts.Number(at.Hour()), prompts.Number(at.Minute()))
	if digits := prompts.DigitNames(v.Caller); len(digits) > 0 {
		names = append(append(names, prompts.VMFrom), digits...)
	} else {
		names = append(names, prompts.VMUnknownCaller)
	}
	pcm := d.set.Say(names...)
	b, err := d.s.o.Store.VoicemailAudio(ctx, d.ext, v.ID)
	if err == nil {
		var msg []int16
		if msg, err = wav.Decode(b); err == nil {
			pcm = append(append(pcm, make([]int16, 4*prompts.Gap)...), msg...)
		}
	}
	if err != nil {
		d.s.log.Warn("voicemail: message audio", "extension", d.ext, "id", v.ID, "err", err)
	}
	return append(pcm, make([]int16, 4*prompts.Gap)...)
}

func (d *dialogue) storedGreeting(ctx context.Context) []int16 {
	b, err := d.s.o.Store.Greeting(ctx, d.ext)
	if err != nil {
		return d.set.Say(prompts.VMNoGreeting)
	}
	pcm, err := wav.Decode(b)
	if err != nil {
		return d.set.Say(prompts.VMNoGreeting)
	}
	return pcm
}

// recordGreeting records a greeting after the tone until #, silence or
// a minute; what has no voice is no greeting.
func (d *dialogue) recordGreeting(ctx context.Context) error {
	d.recorded = nil
	if err := d.sess.Play(ctx, append(d.set.Say(prompts.VMRecordGreeting), Beep()...)); err != nil {
		return err
	}
	_, vs := d.s.settings(ctx)
	var buf bytes.Buffer
	codec := d.sess.Codec()
	rec := media.NewRecorder(&buf, codec, maxGreeting)
	d.sess.ClearDigits()
	d.sess.Record(rec)
	d.s.record(ctx, d.sess, rec, time.Duration(vs.SilenceSeconds)*time.Second)
	d.sess.Record(nil)
	rec.Stop()
	if err := rec.Flush(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	voiced := rec.Voiced()
	if voiced < minSamples/2 {
		return nil
	}
	raw := buf.Bytes()
	b, err := wav.EncodeG711(codec, raw[:min(len(raw), voiced+tailSamples)])
	if err != nil {
		return err
	}
	d.recorded = b
	return nil
}
