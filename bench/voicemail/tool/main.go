// Command tool is bench/voicemail's helper: it writes the pcap the sipp
// callers replay, sets the PBX up through its API for the run, and checks
// afterwards, in the SQLite database, that every message arrived intact.
//
//	tool pcap FILE SECONDS
//	tool setup API TOKEN TRUNK_SOURCE EXT QUOTA
//	tool check DB EXT N SECONDS
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// toneHz is the tone every caller says.
const toneHz = 440

func main() {
	if len(os.Args) < 2 {
		fail("usage: tool pcap|setup|check ...")
	}
	var err error
	switch args := os.Args[2:]; os.Args[1] {
	case "pcap":
		err = pcap(args)
	case "setup":
		err = setup(args)
	case "check":
		err = check(args)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "tool:", msg)
	os.Exit(1)
}

func pcap(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("pcap FILE SECONDS")
	}
	secs, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	f, err := os.Create(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	return mediatest.WritePcap(f, mediatest.Tone(toneHz, time.Duration(secs)*time.Second))
}

// setup takes trunk calls from the source, lets the mailbox hold quota
// messages and enables voicemail for ext.
func setup(args []string) error {
	if len(args) != 5 {
		return fmt.Errorf("setup API TOKEN TRUNK_SOURCE EXT QUOTA")
	}
	api, token, source, ext := args[0], args[1], args[2], args[3]
	quota, err := strconv.Atoi(args[4])
	if err != nil {
		return err
	}
	var st hotdesk.Settings
	if err := call(api, token, "GET", "/settings", nil, &st); err != nil {
		return err
	}
	st.Trunk.Enabled, st.Trunk.Sources = true, []string{source}
	if st.Trunk.Proxy == "" {
		st.Trunk.Proxy = "127.0.0.1:9" // required when enabled; nothing goes out in the bench
	}
	st.Voicemail.Quota = quota
	if err := call(api, token, "PUT", "/settings", st, nil); err != nil {
		return err
	}
	u := map[string]any{"extension": ext, "name": "Bench " + ext, "voicemail": true, "dids": []string{"+31201234999"}}
	if err := call(api, token, "POST", "/users", u, nil); err != nil {
		return err
	}
	return nil
}

func call(api, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, api+"/api/v1"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// check reads every message of ext and wants n of them, each the whole
// tone: within 0.5 s of the length said, and the tone in (nearly) every
// 20 ms frame up to its end.
func check(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("check DB EXT N SECONDS")
	}
	n, err1 := strconv.Atoi(args[2])
	secs, err2 := strconv.Atoi(args[3])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("check: N and SECONDS are numbers")
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, args[0])
	if err != nil {
		return err
	}
	defer s.Close()
	list, err := s.ListVoicemail(ctx, args[1])
	if err != nil {
		return err
	}
	bad, minMS, maxMS, minTone := 0, 1<<31, 0, 1.0
	for _, v := range list {
		b, err := s.VoicemailAudio(ctx, v.Extension, v.ID)
		if err != nil {
			return err
		}
		codec, raw, err := wav.G711Data(b)
		if err != nil {
			return fmt.Errorf("message %d: %w", v.ID, err)
		}
		pcm := g711.DecodeUlaw(nil, raw)
		if codec == "PCMA" {
			pcm = g711.DecodeAlaw(nil, raw)
		}
		frames := len(pcm) / 160
		toneShare := float64(mediatest.ToneFrames(pcm, toneHz)) / float64(max(1, frames))
		minMS, maxMS, minTone = min(minMS, v.DurationMS), max(maxMS, v.DurationMS), min(minTone, toneShare)
		// The stored message is the voice plus a tail of at most 0.5 s.
		if d := v.DurationMS - secs*1000; d < -500 || d > 1000 || toneShare < 0.9*float64(secs*1000)/float64(v.DurationMS) {
			bad++
			fmt.Printf("message %d: %d ms, tone in %.0f%% of its frames\n", v.ID, v.DurationMS, 100*toneShare)
		}
	}
	fmt.Printf("messages %d of %d arrived; %d not intact; durations %d..%d ms; tone share >= %.0f%%\n",
		len(list), n, bad, minMS, maxMS, 100*minTone)
	if len(list) != n || bad > 0 {
		return fmt.Errorf("FAIL: %d messages (want %d), %d not intact", len(list), n, bad)
	}
	return nil
}
