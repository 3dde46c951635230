package mediatest

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
)

// A whole IVR exchange over loopback: the PBX side answers, plays the
// confirmation prompt, the phone records it and types a PIN.
func TestPromptAndDigitsOverRTP(t *testing.T) {
	for _, tt := range []struct {
		lang, codec string
		offer       []string
	}{
		{"en", "PCMU", []string{"0", "8"}},
		{"nl", "PCMA", []string{"8", "0"}},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			set, err := prompts.New(tt.lang, "")
			if err != nil {
				t.Fatal(err)
			}
			s, err := media.NewSession(media.NewPortPool(0, 0), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			phone := NewPhone(t)
			answer, err := s.Answer(phone.Offer(tt.offer...))
			if err != nil {
				t.Fatal(err)
			}
			if err := phone.SetAnswer(answer); err != nil {
				t.Fatal(err)
			}
			if s.Codec() != tt.codec {
				t.Fatalf("codec %s", s.Codec())
			}

			pcm := set.Say(append([]string{prompts.LoggedInAs}, prompts.DigitNames("201")...)...)
			played := make(chan error, 1)
			go func() { played <- s.Play(context.Background(), pcm) }()
			rec := phone.Record(200*time.Millisecond, 10*time.Second)
			if err := <-played; err != nil {
				t.Fatal(err)
			}
			if len(rec.Problems) > 0 {
				t.Fatalf("stream problems: %v", rec.Problems)
			}
			wantPackets := (len(pcm) + 159) / 160
			if rec.Packets != wantPackets {
				t.Fatalf("%d packets, want %d", rec.Packets, wantPackets)
			}
			if got, want := rec.Last.Sub(rec.First), time.Duration(wantPackets-1)*20*time.Millisecond; got < want*9/10 || got > want*11/10 {
				t.Errorf("prompt took %v on the wire, want ~%v", got, want)
			}
			if rec.RMS() < 1000 {
				t.Errorf("prompt is silence (RMS %.0f)", rec.RMS())
			}
			t.Logf("%s: %d packets, %v of audio, %v on the wire, RMS %.0f", tt.lang, rec.Packets, rec.Duration(), rec.Last.Sub(rec.First), rec.RMS())

			if err := phone.SendDigits("1234#"); err != nil {
				t.Fatal(err)
			}
			pin, err := s.CollectDigits(context.Background(), 8, 2*time.Second, 2*time.Second)
			if err != nil || pin != "1234" {
				t.Fatalf("pin %q, %v", pin, err)
			}
		})
	}
}
