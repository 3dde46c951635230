package voicemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
)

// The spool: while a message is recorded its audio is appended to
// NAME.raw (raw G.711 as received) next to NAME.json (who it is for and
// from), both in the spool directory. The recorder flushes and syncs the
// raw file every second, so a crash loses at most the last second; when
// the recording ends the message moves into the store and both files go.
// Files left behind (a crash, the store down at that moment) are stored by
// Recover at the next start and then retried every RetryInterval.

const (
	// minSamples: a message with less voice than this (about 1 s) is
	// discarded — a caller who hung up at the tone.
	minSamples = 8000
	// tailSamples of silence are kept after the last voice.
	tailSamples = 4000
	// RetryInterval is how often Run retries spool files the store refused.
	RetryInterval = 30 * time.Second
	storeTimeout  = 30 * time.Second
	// sourceSpool is the audit source of a message recovered from the spool.
	sourceSpool = "spool"
)

// spoolMeta is NAME.json.
type spoolMeta struct {
	Extension  string    `json:"extension"`
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name"`
	Codec      string    `json:"codec"`
	ReceivedAt time.Time `json:"received_at"`
	Source     string    `json:"source"`
}

// spool is one message being recorded.
type spool struct {
	name string
	meta spoolMeta
	raw  *os.File
}

// newSpool creates NAME.json and an empty NAME.raw, both synced to disk
// with their directory entries, and marks the name active (Recover leaves
// it alone while the call records).
func (s *Service) newSpool(meta spoolMeta) (*spool, error) {
	name := fmt.Sprintf("%d-%s-%08x", meta.ReceivedAt.UnixNano(), safeName(meta.Extension), rand.Uint32())
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	dir := s.o.SpoolDir
	s.setActive(name, true)
	fail := func(err error) (*spool, error) {
		s.setActive(name, false)
		_ = os.Remove(filepath.Join(dir, name+".raw"))
		_ = os.Remove(filepath.Join(dir, name+".json"))
		return nil, fmt.Errorf("voicemail: spool: %w", err)
	}
	raw, err := os.OpenFile(filepath.Join(dir, name+".raw"), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fail(err)
	}
	if err := writeSynced(filepath.Join(dir, name+".json"), b); err != nil {
		raw.Close()
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		raw.Close()
		return fail(err)
	}
	return &spool{name: name, meta: meta, raw: raw}, nil
}

// safeName keeps an extension usable in a file name.
func safeName(ext string) string {
	return strings.Map(func(r rune) rune {
		if (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, ext)
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *Service) setActive(name string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.active[name] = true
	} else {
		delete(s.active, name)
	}
}

func (s *Service) isActive(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[name]
}

// finish closes the spool and moves the message into the store. It returns
// the message (nil when discarded as too short). On a store error the
// files stay for Run to retry.
func (s *Service) finish(ctx context.Context, sp *spool, voiced int) (*hotdesk.Voicemail, error) {
	defer s.setActive(sp.name, false)
	if err := sp.raw.Close(); err != nil {
		s.log.Warn("voicemail: close spool", "name", sp.name, "err", err)
	}
	return s.storeSpool(ctx, sp.name, sp.meta, voiced)
}

// storeSpool stores spool NAME whose audio has voice up to voiced samples
// (-1: measure it) and removes its files.
func (s *Service) storeSpool(ctx context.Context, name string, meta spoolMeta, voiced int) (*hotdesk.Voicemail, error) {
	dir := s.o.SpoolDir
	raw, err := os.ReadFile(filepath.Join(dir, name+".raw"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("voicemail: read spool: %w", err)
	}
	if voiced < 0 {
		voiced = media.VoicedLength(meta.Codec, raw)
	}
	keep := min(len(raw), voiced+tailSamples)
	var v *hotdesk.Voicemail
	if voiced >= minSamples {
		audio, err := wav.EncodeG711(meta.Codec, raw[:keep])
		if err != nil {
			s.log.Warn("voicemail: unusable spool file, removed", "name", name, "err", err)
			return nil, s.removeSpool(name)
		}
		v = &hotdesk.Voicemail{Extension: meta.Extension, Caller: meta.Caller, CallerName: meta.CallerName,
			ReceivedAt: meta.ReceivedAt, DurationMS: keep / 8, New: true, Codec: meta.Codec}
		err = s.o.Store.CreateVoicemail(ctx, v, audio)
		if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
			s.log.Info("voicemail: mailbox gone (user deleted), message dropped", "extension", meta.Extension)
			v = nil
		} else if err != nil {
			return nil, fmt.Errorf("voicemail: store message: %w", err)
		}
	}
	if err := s.removeSpool(name); err != nil {
		s.log.Warn("voicemail: remove spool", "name", name, "err", err)
	}
	if v != nil {
		s.Changed(ctx, v.Extension, v.ID, hotdesk.VoicemailNew, meta.Source)
	}
	return v, nil
}

func (s *Service) removeSpool(name string) error {
	dir := s.o.SpoolDir
	err := errors.Join(os.Remove(filepath.Join(dir, name+".raw")), os.Remove(filepath.Join(dir, name+".json")))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Recover stores the spool files no call is recording: messages a crash
// or a store failure left behind. It returns how many became messages.
func (s *Service) Recover(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(s.o.SpoolDir)
	if err != nil {
		return 0, fmt.Errorf("voicemail: read spool: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || s.isActive(name) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.o.SpoolDir, e.Name()))
		var meta spoolMeta
		if err == nil {
			err = json.Unmarshal(b, &meta)
		}
		if err != nil {
			// A crash between creating the two files leaves a torn
			// NAME.json; nothing was recorded yet.
			s.log.Warn("voicemail: unreadable spool file removed", "name", name, "err", err)
			_ = s.removeSpool(name)
			continue
		}
		meta.Source = sourceSpool // the audit says where the message came from
		v, err := s.storeSpool(ctx, name, meta, -1)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v != nil {
			n++
			s.log.Info("voicemail: message recovered from spool", "extension", v.Extension, "id", v.ID, "duration_ms", v.DurationMS)
		}
	}
	return n, errors.Join(errs...)
}

// Run recovers the spool at start and then retries leftover files every
// RetryInterval until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(RetryInterval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, storeTimeout)
		if _, err := s.Recover(rctx); err != nil && ctx.Err() == nil {
			s.log.Warn("voicemail: spool not stored yet, will retry", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
