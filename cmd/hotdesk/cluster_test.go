package main

// Issue 14 with three real `hotdesk serve` processes on one PostgreSQL
// schema, each on its own loopback address (127.0.0.1, .2, .3): calls reach
// a phone through the node holding its registration, roaming sends
// check-sync to a phone on another node, a killed node's phones count as
// unregistered within the node timeout, and a phone that fails over to
// another node keeps its user.

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/app"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

func TestClusterOfThreeNodes(t *testing.T) {
	db := mustCluster(t)
	a := startNode(t, "a", "127.0.0.1", db, "32000-32199", true)
	// b takes SIP from the other nodes over TCP, c over UDP.
	b := startNode(t, "b", "127.0.0.2", db, "32200-32399", false, "--node-transport", "tcp")
	c := startNode(t, "c", "127.0.0.3", db, "32400-32599", false)

	hd1 := phoneAt(t, a, "HD00001", app.DemoPassword("HD00001"))
	hd2 := phoneAt(t, b, "HD00002", app.DemoPassword("HD00002"))
	hd3 := phoneAt(t, c, "HD00003", app.DemoPassword("HD00003"))
	phoneLogin(t, hd1, "*35*201*1234")
	phoneLogin(t, hd2, "*35*202*1234")

	// Every node's API shows every node's bindings, with the node.
	for _, n := range []*node{a, b, c} {
		if got := n.registration(t, "HD00002"); got != "b" {
			t.Errorf("node %s: HD00002 registered at %q, want b", n.name, got)
		}
		if got := n.registration(t, "HD00001"); got != "a" {
			t.Errorf("node %s: HD00001 registered at %q, want a", n.name, got)
		}
	}

	t.Run("call from a phone on a to a user on b", func(t *testing.T) {
		// HD00003, on node c, watches 202's line (BLF).
		if res, err := hd3.Subscribe("202", "dialog", 600); err != nil || res.StatusCode != 200 {
			t.Fatalf("HD00003 subscribes to 202 through node c: %v %v", res, err)
		}
		start := time.Now()
		call, err := hd1.Dial("202")
		if err != nil {
			t.Fatalf("201 on HD00001 (node a) calls 202 on HD00002 (node b): %v", err)
		}
		in := hd2.MustWaitIncoming(t, 5*time.Second)
		<-in.Confirmed()
		t.Logf("INVITE on node a -> answered and ACKed at HD00002 on node b: %v", time.Since(start).Round(time.Millisecond))
		if !tcpConnected(t, "127.0.0.1", b.sip) {
			t.Errorf("no TCP connection from node a to node b's SIP port %s: the leg did not go over TCP", b.sip)
		}
		if from := in.Request.From(); from.Address.User != "201" {
			t.Errorf("HD00002 was called by %q, want 201", from.Address.User)
		}
		if h := in.Request.GetHeader("X-Hotdesk-Node"); h != nil {
			t.Errorf("the phone got the node header %q", h.Value())
		}
		// The lamp on node c's phone shows 202 in the call between a and b.
		testrun.Eventually(t, 5*time.Second, "HD00003 (node c) told by NOTIFY that 202 is in a call", func() bool {
			for _, n := range hd3.Notifies() {
				if ev := n.GetHeader("Event"); ev != nil && strings.HasPrefix(ev.Value(), "dialog") &&
					strings.Contains(string(n.Body()), "confirmed") {
					return true
				}
			}
			return false
		})
		// Media flows phone to phone: RTP from the caller reaches the callee.
		got := make(chan int, 1)
		go func() { got <- in.Media.Record(500*time.Millisecond, 5*time.Second).Packets }()
		if err := call.SendKeysRTP("5"); err != nil {
			t.Fatal(err)
		}
		if n := <-got; n == 0 {
			t.Fatal("no RTP from the caller reached the callee")
		}
		if err := call.Hangup(); err != nil {
			t.Fatal(err)
		}
		if err := in.WaitEnded(5 * time.Second); err != nil {
			t.Fatalf("the callee on node b got no BYE: %v", err)
		}
		// Records per user, once each, written by the node that took the call.
		for ext, dir := range map[string]string{"201": hotdesk.DirectionOutbound, "202": hotdesk.DirectionInbound} {
			var recs []hotdesk.CallRecord
			testrun.Eventually(t, 5*time.Second, ext+"'s call record", func() bool {
				recs = nil
				c.api(t, "GET", "/users/"+ext+"/calls", "", &recs)
				return len(recs) == 1 && recs[0].End != nil
			})
			if r := recs[0]; r.Direction != dir || r.Result != hotdesk.ResultAnswered {
				t.Errorf("%s's record: %+v", ext, r)
			}
		}
	})

	t.Run("a forged node INVITE is refused", func(t *testing.T) {
		// From 127.0.0.1, node a's own address, claiming to be node a
		// with a bad signature: no digest challenge, no ringing, 403.
		intruder := siptest.New(t, siptest.Options{Server: b.sip, User: "intruder", Domain: "hotdesk.local"})
		hdr := sip.NewHeader("X-Hotdesk-Node", "a;ts="+strconv.FormatInt(time.Now().Unix(), 10)+";sig="+strings.Repeat("0", 64))
		_, err := intruder.DialWith("HD00002", siptest.DialOptions{Headers: []sip.Header{hdr}})
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("forged node INVITE to node b: %v, want 403", err)
		}
		if in, err := hd2.WaitIncoming(500 * time.Millisecond); err == nil {
			t.Fatalf("HD00002 rang for a forged node INVITE: %v", in.Request.StartLine())
		}
	})

	t.Run("first answer wins across nodes", func(t *testing.T) {
		// 202 is logged in on HD00002 (node b) and has a personal phone
		// registered with node c: both ring, c's answers, b's is cancelled.
		var dev struct {
			ID          string `json:"id"`
			SIPPassword string `json:"sip_password"`
		}
		if code := a.api(t, "POST", "/devices", `{"id":"p202","label":"202 personal","mode":"personal","owner":"202"}`, &dev); code != http.StatusCreated {
			t.Fatalf("POST /devices personal: %d", code)
		}
		pers := phoneAt(t, c, dev.ID, dev.SIPPassword)
		pers.SetAnswerMode(siptest.AnswerRing)
		hd2.SetAnswerMode(siptest.AnswerRing)
		defer hd2.SetAnswerMode(siptest.AnswerOK)

		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		dialing := hd1.DialAsync(ctx, "202", siptest.DialOptions{})
		inB, err := hd2.WaitIncoming(5 * time.Second)
		if err != nil {
			t.Fatalf("HD00002 on node b did not ring: %v", err)
		}
		inC, err := pers.WaitIncoming(5 * time.Second)
		if err != nil {
			t.Fatalf("202's personal phone on node c did not ring: %v", err)
		}
		if inB.Request.From().Address.User != "201" || inC.Request.From().Address.User != "201" {
			t.Fatalf("rung as %q and %q, want 201", inB.Request.From().Address.User, inC.Request.From().Address.User)
		}
		answered := time.Now()
		inC.Answer()
		call, err := dialing.Result()
		if err != nil {
			t.Fatalf("call answered on node c: %v", err)
		}
		if err := inB.WaitEnded(5 * time.Second); err != nil {
			t.Fatalf("HD00002 on node b kept ringing after the personal phone on node c answered: %v", err)
		}
		t.Logf("answer on node c -> CANCEL at HD00002 on node b: %v", time.Since(answered).Round(time.Millisecond))
		// The callee hangs up: its BYE goes through node c to node a to
		// the caller.
		if err := inC.Hangup(); err != nil {
			t.Fatal(err)
		}
		if err := call.WaitBye(5 * time.Second); err != nil {
			t.Fatalf("the caller on node a got no BYE from the callee on node c: %v", err)
		}
		testrun.Eventually(t, 5*time.Second, "202's record of the call answered on the personal phone", func() bool {
			var recs []hotdesk.CallRecord
			b.api(t, "GET", "/users/202/calls", "", &recs)
			for _, r := range recs {
				if r.Device == dev.ID && r.Result == hotdesk.ResultAnswered && r.End != nil {
					return true
				}
			}
			return false
		})

		// The caller gives up while both ring: the CANCEL reaches both
		// phones through their nodes.
		ctx, cancel = context.WithCancel(context.Background())
		dialing = hd1.DialAsync(ctx, "202", siptest.DialOptions{})
		inB, errB := hd2.WaitIncoming(5 * time.Second)
		inC, errC := pers.WaitIncoming(5 * time.Second)
		cancel()
		if errB != nil || errC != nil {
			t.Fatalf("second call did not ring both: %v %v", errB, errC)
		}
		if _, err := dialing.Result(); err == nil {
			t.Fatal("cancelled dial connected")
		}
		for name, in := range map[string]*siptest.Incoming{"HD00002 (node b)": inB, "personal phone (node c)": inC} {
			if err := in.WaitEnded(5 * time.Second); err != nil {
				t.Fatalf("%s kept ringing after the caller's CANCEL: %v", name, err)
			}
		}
		if _, err := pers.Register(0); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("roaming from a to c sends check-sync to a's phone", func(t *testing.T) {
		syncs, _ := hd1.WaitNotify(0, "check-sync", 0) // message-summary NOTIFYs come too
		before := len(syncs)
		phoneLogin(t, hd3, "*35*201*1234")
		if _, err := hd1.WaitNotify(before+1, "check-sync", 5*time.Second); err != nil {
			t.Fatalf("HD00001 (node a) got no check-sync after 201 logged in on HD00003 (node c): %v", err)
		}
	})

	t.Run("trunk call arriving at c reaches 202 on b", func(t *testing.T) {
		siptest.MustSipp(t)
		const provider = "127.0.0.5"
		changeSettings(t, db, func(set *hotdesk.Settings) {
			set.Trunk = hotdesk.Trunk{Enabled: true, Proxy: provider + ":5060", Domain: "provider.test", Sources: []string{provider + "/32"}}
		})
		time.Sleep(2500 * time.Millisecond) // every node's settings cache (2 s)
		sipp := siptest.Sipp{Scenario: "call_trunk_in.xml", Remote: c.sip, IP: provider,
			Args: []string{"-s", "0201234202", "-key", "caller", "0612345678"}}
		if _, err := sipp.Run(t); err != nil {
			t.Fatalf("sipp provider calling 202's DID through node c: %v", err)
		}
		var recs []hotdesk.CallRecord
		testrun.Eventually(t, 5*time.Second, "202's record of the trunk call", func() bool {
			recs = nil
			b.api(t, "GET", "/users/202/calls", "", &recs)
			return len(recs) > 0 && recs[0].Peer == "+31612345678" && recs[0].End != nil
		})
		if r := recs[0]; r.Result != hotdesk.ResultAnswered || r.Device != "HD00002" || r.Direction != hotdesk.DirectionInbound {
			t.Errorf("202's record of the trunk call: %+v", r)
		}
		// Node c connected to b over TCP from its own address (b takes
		// signed requests only from there).
		if !tcpConnected(t, "127.0.0.3", b.sip) {
			t.Errorf("no TCP connection from node c's address to node b's SIP port %s", b.sip)
		}
		changeSettings(t, db, func(set *hotdesk.Settings) { set.Trunk = hotdesk.Trunk{} })
	})

	t.Run("kill -9 a node", func(t *testing.T) {
		// Lost registration logs out after 5 s: a phone on the killed node
		// that does not come back loses its user, one that fails over does
		// not. (The API accepts 1m at least; the store takes any.)
		changeSettings(t, db, func(set *hotdesk.Settings) { set.AutoLogout.LostRegistration = "5s" })
		var dev struct {
			ID          string `json:"id"`
			SIPPassword string `json:"sip_password"`
		}
		if code := a.api(t, "POST", "/devices", `{"label":"moves"}`, &dev); code != http.StatusCreated {
			t.Fatalf("POST /devices: %d", code)
		}
		mover := phoneAt(t, a, dev.ID, dev.SIPPassword)
		phoneLogin(t, mover, "*35*203*1234")
		if code := a.api(t, "POST", "/logins", `{"extension":"204","device":"HD00001"}`, nil); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("POST /logins 204@HD00001: %d", code)
		}
		time.Sleep(2500 * time.Millisecond) // the settings caches (2 s) see the 5 s policy

		_ = a.p.cmd.Process.Signal(syscall.SIGKILL)
		<-a.p.done
		killed := time.Now()
		// The phone fails over to node b (same contact) and is registered
		// there at once.
		mover.SetServer(b.sip)
		mover.MustRegister(t)
		if got := c.registration(t, dev.ID); !strings.Contains(got, "b") {
			t.Errorf("%s after failing over: registered at %q on node c's API, want b", dev.ID, got)
		}
		testrun.Eventually(t, nodeTimeout+3*time.Second, "HD00001 on the killed node shown unregistered", func() bool {
			return b.registration(t, "HD00001") == "" && c.registration(t, "HD00001") == ""
		})
		t.Logf("kill -9 node a -> HD00001 unregistered on the API of nodes b and c: %v (node timeout %v)",
			time.Since(killed).Round(time.Millisecond), nodeTimeout)
		if got := c.registration(t, dev.ID); got != "b" {
			t.Errorf("%s after node a was declared lost: registered at %q, want b", dev.ID, got)
		}
		// The lost-registration deadline passes: 204 is logged out of the
		// phone that stayed on the dead node, 203 keeps the one that moved.
		testrun.Eventually(t, 15*time.Second, "204 logged out of HD00001 (lost registration)", func() bool {
			return b.loggedIn(t, "HD00001") == ""
		})
		time.Sleep(time.Second)
		if got := c.loggedIn(t, dev.ID); got != "203" {
			t.Errorf("%s moved from a to b: logged in %q, want 203", dev.ID, got)
		}
		var audit []hotdesk.AuditEvent
		if code := b.api(t, "GET", "/audit?device=HD00001&kind=unregistered", "", &audit); code != http.StatusOK {
			t.Fatalf("GET /audit: %d", code)
		}
		found := false
		for _, e := range audit {
			found = found || e.Reason == "node_lost"
		}
		if !found {
			t.Errorf("no node_lost audit entry for HD00001: %+v", audit)
		}
		audit = nil
		if code := b.api(t, "GET", "/audit?device="+dev.ID+"&kind=unregistered,logout", "", &audit); code != http.StatusOK {
			t.Fatalf("GET /audit: %d", code)
		}
		if len(audit) != 0 {
			t.Errorf("%s, registered on node b when a was declared lost, was audited: %+v", dev.ID, audit)
		}
	})
}

// TestNodeNameInUseRefusesToStart: a second process started with the name
// of a live node (from another data directory) exits with a message saying
// so, and the first keeps running; the node itself, killed and restarted at
// once from its data directory, takes its name back.
func TestNodeNameInUseRefusesToStart(t *testing.T) {
	db := mustCluster(t)
	dir := t.TempDir()
	first := startNodeIn(t, dir, "pbx1", "127.0.0.1", db, "32600-32699", false)
	second := startProc(t, nil, "serve", "--data", t.TempDir(), "--db", db, "--node", "pbx1", "--sip", "127.0.0.2:0",
		"--http", "127.0.0.2:0", "--public-ip", "127.0.0.2", "--rtp-ports", "32700-32799", "--log-level", "warn")
	if err := second.wait(t, 30*time.Second); err == nil {
		t.Fatal("second pbx1 exited 0")
	}
	msg := second.stderr.String() + second.stdout.String()
	if !strings.Contains(msg, `node name "pbx1" is in use by a running node`) || !strings.Contains(msg, first.sip) {
		t.Fatalf("second pbx1's output does not say the name is in use by %s:\n%s", first.sip, msg)
	}
	t.Logf("refused: %s", strings.TrimSpace(msg))
	if code, _ := get(t, first.http+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("first pbx1 /healthz after the refused start: %d", code)
	}
	_ = first.p.cmd.Process.Signal(syscall.SIGKILL)
	<-first.p.done
	again := startNodeIn(t, dir, "pbx1", "127.0.0.1", db, "32600-32699", false)
	if code, _ := get(t, again.http+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("pbx1 restarted from its data dir: /healthz %d", code)
	}
}
