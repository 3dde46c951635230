package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/app"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// startVMNode starts a single node on dir and db. Unlike startNodeIn it
// waits for the banner's SIP line, which a restart prints a moment after
// the console's.
func startVMNode(t *testing.T, dir, db string, demo bool) *node {
	t.Helper()
	args := []string{"serve", "--data", dir, "--db", db, "--node", "pbx", "--sip", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--public-ip", "127.0.0.1", "--rtp-ports", "33000-33199", "--log-level", "warn"}
	if demo {
		args = append(args, "--demo")
	}
	n := &node{name: "pbx", ip: "127.0.0.1", p: startProc(t, nil, args...)}
	n.http = n.p.baseURL(t, 30*time.Second)
	testrun.Eventually(t, 10*time.Second, "SIP address in the banner", func() bool {
		m := sipRE.FindStringSubmatch(n.p.stdout.String())
		if m != nil {
			n.sip = m[1]
		}
		return m != nil
	})
	b, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	n.token = strings.TrimSpace(string(b))
	return n
}

// Messages are durable: one left before a clean restart is still there,
// and one being recorded when the process is killed with SIGKILL is
// stored at the next start with what was said up to about a second before
// the kill (the spool file is synced every second).
func TestVoicemailSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "hotdesk.db")
	n := startVMNode(t, dir, db, true)
	if code := n.api(t, "PATCH", "/users/202", `{"voicemail":true}`, nil); code != http.StatusOK {
		t.Fatalf("PATCH /users/202: %d", code)
	}
	hd1 := phoneAt(t, n, "HD00001", "demo-HD00001-secret")
	phoneLogin(t, hd1, "*35*201*1234")

	// A whole message, then a clean restart.
	// 1.6 s said: a frame lost as recording starts on a busy machine still
	// leaves the 1.5 s the check below wants.
	c := hd1.MustLeaveMessage(t, "202", 1600*time.Millisecond)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // stored after the BYE
	n.p.stop(t)
	n = startVMNode(t, dir, db, false)

	// Mid-message kill: 3 s said, the process killed while the caller
	// still talks.
	hd1.SetServer(n.sip)
	hd1.MustRegister(t)
	c = hd1.MustLeaveMessage(t, "202", 3*time.Second)
	_ = n.p.cmd.Process.Signal(syscall.SIGKILL)
	_ = n.p.wait(t, 10*time.Second)

	// The next start stores what the spool kept.
	n = startVMNode(t, dir, db, false)
	spool := filepath.Join(dir, "voicemail", "spool")
	testrun.Eventually(t, 10*time.Second, "spool emptied into the store", func() bool {
		entries, err := os.ReadDir(spool)
		return err == nil && len(entries) == 0
	})
	n.p.stop(t)

	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "hotdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := s.ListVoicemail(context.Background(), "202")
	if err != nil || len(list) != 2 {
		t.Fatalf("202's mailbox: %d messages %v, want 2", len(list), err)
	}
	first, killed := list[0], list[1]
	if first.DurationMS < 1500 || first.DurationMS > 2200 {
		t.Errorf("message before the restart: %d ms, want 1.5 s and a tail", first.DurationMS)
	}
	// The voice up to the last sync (>= 2 s of the 3 s) and at most the
	// half-second tail.
	if killed.DurationMS < 2000 || killed.DurationMS > 3600 || !killed.New || killed.Caller != "201" {
		t.Errorf("message cut by the kill: %+v", killed)
	}
	audits, err := s.FindAudit(context.Background(), hotdesk.AuditFilter{Extension: "202", Kinds: []string{hotdesk.KindVoicemail}})
	if err != nil || len(audits) != 2 || audits[0].Source != "spool" {
		t.Errorf("audit of the recovered message: %+v %v", audits, err)
	}
}

// Two nodes on one PostgreSQL: a message left through node a is played
// by node b (*97 from a phone registered there), audio and all.
func TestVoicemailTwoNodes(t *testing.T) {
	db := mustCluster(t)
	a := startNode(t, "a", "127.0.0.1", db, "33200-33399", true)
	b := startNode(t, "b", "127.0.0.2", db, "33400-33599", false)
	if code := a.api(t, "PATCH", "/users/202", `{"voicemail":true}`, nil); code != http.StatusOK {
		t.Fatalf("PATCH /users/202: %d", code)
	}
	hd1 := phoneAt(t, a, "HD00001", app.DemoPassword("HD00001"))
	phoneLogin(t, hd1, "*35*201*1234")
	c := hd1.MustLeaveMessage(t, "202", 2*time.Second)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}

	hd2 := phoneAt(t, b, "HD00002", app.DemoPassword("HD00002"))
	phoneLogin(t, hd2, "*35*202*1234")
	c = hd2.MustOpenMailbox(t, "1234")
	heard := c.Record(1500*time.Millisecond, 14*time.Second)
	_ = c.Hangup()
	if got := mediatest.ToneFrames(heard.PCM, 440); got < 75 { // 1.5 s of the 2 s tone
		t.Fatalf("node b played %v with %d frames of the message's tone, want the 2 s message", heard.Duration(), got)
	}
	if got := mediatest.ToneFrames(mediatest.Tone(440, time.Second), 440); got != 50 {
		t.Fatalf("toneFrames of 1 s of tone: %d", got)
	}
}
