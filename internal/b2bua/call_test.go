package b2bua_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// office is a PBX with users 201 and 202, hot desk phones HD1 (201
// logged in), HD2 (202 logged in) and HD3 (neutral).
type office struct {
	*pbx
	hd1, hd2, hd3 *siptest.Phone
}

// softphone202 gives 202 a second personal phone, SOFT202, and sets both
// of 202's phones to answer with mode.
func (o *office) softphone202(t *testing.T, mode siptest.AnswerMode) *siptest.Phone {
	t.Helper()
	soft := o.mustDevice(t, hotdesk.Device{ID: "SOFT202", Owner: "202"})
	o.hd2.SetAnswerMode(mode)
	soft.SetAnswerMode(mode)
	return soft
}

func mustOffice(t *testing.T, users ...hotdesk.User) *office {
	t.Helper()
	p := mustPBX(t)
	if len(users) == 0 {
		users = []hotdesk.User{{Extension: "201"}, {Extension: "202"}}
	}
	for _, u := range users {
		p.mustUser(t, u)
	}
	o := &office{pbx: p}
	o.hd1 = p.mustDevice(t, hotdesk.Device{ID: "HD1"})
	o.hd2 = p.mustDevice(t, hotdesk.Device{ID: "HD2"})
	o.hd3 = p.mustDevice(t, hotdesk.Device{ID: "HD3"})
	p.login(t, "201", "HD1")
	p.login(t, "202", "HD2")
	return o
}

// mustRing calls 202 from HD1 and returns once HD2 has the INVITE.
func (o *office) mustRing(t *testing.T) (*siptest.Call, *siptest.Incoming) {
	t.Helper()
	c, err := o.hd1.Dial("202")
	if err != nil {
		t.Fatal(err)
	}
	in := o.hd2.MustWaitIncoming(t, 2*time.Second)
	return c, in
}

// mustConnect is mustRing, returning once the call is confirmed.
func (o *office) mustConnect(t *testing.T) (*siptest.Call, *siptest.Incoming) {
	t.Helper()
	c, in := o.mustRing(t)
	<-in.Confirmed()
	return c, in
}

// mustEnd waits up to 3 s for the PBX to end the leg in (BYE or CANCEL)
// and fails with why otherwise.
func mustEnd(t *testing.T, in *siptest.Incoming, why string) {
	t.Helper()
	select {
	case <-in.Ended():
	case <-time.After(3 * time.Second):
		t.Fatal(why)
	}
}

// hangUp ends call c from the caller's side; the callee's leg in must end.
func hangUp(t *testing.T, c *siptest.Call, in *siptest.Incoming) {
	t.Helper()
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	mustEnd(t, in, "callee got no BYE")
}

// wantCode returns a check that an in-dialog request (what) was answered
// want: wantCode(t, "hold", 200)(c.Request(…)).
func wantCode(t *testing.T, what string, want int) func(code int, err error) {
	return func(code int, err error) {
		t.Helper()
		if err != nil || code != want {
			t.Fatalf("%s: %d %v, want %d", what, code, err, want)
		}
	}
}

func statusOf(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode
	}
	return 0
}

func TestCallReachesLoggedInPhone(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c, in := o.mustRing(t)
	from := in.Request.From()
	if from.Address.User != "201" || from.DisplayName != "User 201" {
		t.Errorf("callee saw From %q, want \"User 201\" <sip:201@…>", from.Value())
	}
	if pai := header(in.Request, "P-Asserted-Identity"); !strings.Contains(pai, "sip:201@") || !strings.Contains(pai, "User 201") {
		t.Errorf("P-Asserted-Identity %q", pai)
	}
	if string(in.Request.Body()) != string(c.Media.Offer()) {
		t.Errorf("SDP changed on the way:\n%s\nwant\n%s", in.Request.Body(), c.Media.Offer())
	}
	if _, err := o.hd3.WaitIncoming(200 * time.Millisecond); err == nil {
		t.Error("the neutral phone rang")
	}
	hangUp(t, c, in)
	out := o.waitRecord(t, "201")
	if out.Direction != hotdesk.DirectionOutbound || out.Peer != "202" || out.Device != "HD1" || out.Result != hotdesk.ResultAnswered || out.Answer == nil {
		t.Errorf("caller record %+v", out)
	}
	rec := o.waitRecord(t, "202")
	if rec.Direction != hotdesk.DirectionInbound || rec.Peer != "201" || rec.Device != "HD2" || rec.Result != hotdesk.ResultAnswered {
		t.Errorf("callee record %+v", rec)
	}
	o.waitIdle(t, 3*time.Second)
	want := []string{"call_trying/recipient", "call_confirmed/recipient", "call_terminated/recipient"}
	if got := o.callEvents("202"); !slices.Equal(got, want) {
		t.Errorf("events of 202: %v, want %v", got, want)
	}
	if got := o.callEvents("201"); len(got) != 3 || got[0] != "call_trying/initiator" {
		t.Errorf("events of 201: %v", got)
	}
}

func TestCallFollowsRoaming(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	o.login(t, "202", "HD3") // roams from HD2
	c, err := o.hd1.Dial("202")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Hangup()
	if _, err := o.hd3.WaitIncoming(2 * time.Second); err != nil {
		t.Fatal("new phone did not ring:", err)
	}
	if _, err := o.hd2.WaitIncoming(200 * time.Millisecond); err == nil {
		t.Error("the old phone rang")
	}
}

func TestParallelRingingCancelsLoser(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	soft := o.softphone202(t, siptest.AnswerRing)
	var provisional []int
	done := make(chan error, 1)
	var call *siptest.Call
	go func() {
		var err error
		call, err = o.hd1.DialWith("202", siptest.DialOptions{OnResponse: func(r *sip.Response) { provisional = append(provisional, r.StatusCode) }})
		done <- err
	}()
	desk := o.hd2.MustWaitIncoming(t, 2*time.Second)
	mobile := soft.MustWaitIncoming(t, 2*time.Second)
	time.Sleep(100 * time.Millisecond)
	mobile.Answer()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	defer call.Hangup()
	mustEnd(t, desk, "losing phone was not cancelled")
	if !slices.Contains(provisional, sip.StatusRinging) {
		t.Errorf("caller saw %v, want a 180", provisional)
	}
	select {
	case <-mobile.Ended():
		t.Fatal("winner ended")
	case <-time.After(100 * time.Millisecond):
	}
	call.Hangup()
	if rec := o.waitRecord(t, "202"); rec.Device != "SOFT202" || rec.Result != hotdesk.ResultAnswered {
		t.Errorf("callee record %+v, want answered on SOFT202", rec)
	}
}

func TestBusyEverywhere(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	o.softphone202(t, siptest.AnswerBusy)
	_, err := o.hd1.Dial("202")
	if statusOf(err) != sip.StatusBusyHere {
		t.Fatalf("dial: %v, want 486", err)
	}
	for _, ext := range []string{"201", "202"} {
		o.wantResult(t, ext, hotdesk.ResultBusy)
	}
	o.waitIdle(t, 3*time.Second)
}

func TestNoAnswerTimesOut(t *testing.T) {
	t.Parallel()
	o := mustOffice(t, hotdesk.User{Extension: "201"}, hotdesk.User{Extension: "202", RingTimeout: 1})
	o.hd2.SetAnswerMode(siptest.AnswerRing)
	start := time.Now()
	_, err := o.hd1.Dial("202")
	if statusOf(err) != sip.StatusTemporarilyUnavailable {
		t.Fatalf("dial: %v, want 480", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("480 after %v, want about the 1 s ring timeout", d)
	}
	in := o.hd2.MustWaitIncoming(t, time.Second)
	mustEnd(t, in, "ringing phone not cancelled")
	o.wantResult(t, "202", hotdesk.ResultNoAnswer)
	o.waitIdle(t, 3*time.Second)
}

func TestCallerCancelReachesEveryLeg(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	soft := o.softphone202(t, siptest.AnswerRing)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := o.hd1.DialContext(ctx, "202", siptest.DialOptions{})
		done <- err
	}()
	var ins []*siptest.Incoming
	for _, ph := range []*siptest.Phone{o.hd2, soft} {
		in := ph.MustWaitIncoming(t, 2*time.Second)
		ins = append(ins, in)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("cancelled dial succeeded")
	}
	for i, in := range ins {
		mustEnd(t, in, fmt.Sprintf("leg %d not cancelled", i))
	}
	o.wantResult(t, "202", hotdesk.ResultCancelled)
	o.waitIdle(t, 5*time.Second)
}

func TestNowhereAndUnknown(t *testing.T) {
	t.Parallel()
	o := mustOffice(t, hotdesk.User{Extension: "201"}, hotdesk.User{Extension: "202"}, hotdesk.User{Extension: "203"})
	start := time.Now()
	if _, err := o.hd1.Dial("203"); statusOf(err) != sip.StatusTemporarilyUnavailable {
		t.Errorf("logged in nowhere: %v, want 480", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("480 took %v, want at once (the ring timeout is 30 s)", d)
	}
	if _, err := o.hd1.Dial("299"); statusOf(err) != sip.StatusNotFound {
		t.Errorf("unknown extension: %v, want 404", err)
	}
	o.waitIdle(t, 3*time.Second)
}

const holdSDP = "v=0\r\no=x 1 2 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=sendonly\r\n"

func TestHoldAndByeRelayed(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	for _, calleeHangsUp := range []bool{false, true} {
		c, in := o.mustRing(t)
		// Caller holds: the callee gets the re-INVITE with the SDP unchanged.
		wantCode(t, "hold", sip.StatusOK)(c.Request(sip.INVITE, "application/sdp", []byte(holdSDP)))
		if got := in.Received(); len(got) != 1 || got[0].Method != sip.INVITE || string(got[0].Body()) != holdSDP {
			t.Fatalf("callee received %v", got)
		}
		// A key press as SIP INFO is relayed too.
		wantCode(t, "INFO", sip.StatusOK)(c.SendInfo('5', true))
		if got := in.Received(); len(got) != 2 || got[1].Method != sip.INFO || !strings.Contains(string(got[1].Body()), "Signal=5") {
			t.Fatalf("callee received %v", got)
		}
		// Callee holds back, then UPDATE: the caller gets both.
		wantCode(t, "callee re-INVITE", sip.StatusOK)(in.Send(sip.INVITE, "application/sdp", []byte(holdSDP)))
		wantCode(t, "callee UPDATE", sip.StatusOK)(in.Send(sip.UPDATE, "application/sdp", []byte(holdSDP)))
		if got := c.Received(); len(got) != 2 || got[0].Method != sip.INVITE || got[1].Method != sip.UPDATE || string(got[0].Body()) != holdSDP {
			t.Fatalf("caller received %v", got)
		}
		if calleeHangsUp {
			if err := in.Hangup(); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitBye(3 * time.Second); err != nil {
				t.Fatal(err)
			}
		} else {
			hangUp(t, c, in)
		}
		o.waitIdle(t, 3*time.Second)
	}
}

// TestManyCallsLeaveNothingBehind makes calls one after another and checks
// that dialogs, calls and goroutines return to where they started.
func TestManyCallsLeaveNothingBehind(t *testing.T) {
	o := mustOffice(t)
	const calls = 200
	warm := func() {
		c, in := o.mustRing(t)
		if err := c.Hangup(); err != nil {
			t.Fatal(err)
		}
		<-in.Ended()
	}
	warm()
	o.waitIdle(t, 3*time.Second)
	time.Sleep(200 * time.Millisecond)
	base := runtime.NumGoroutine()
	start := time.Now()
	for range calls {
		warm()
	}
	took := time.Since(start)
	t.Logf("%d calls (dial, answer, BYE) one after another in %v: %.1f calls/s, %v per call", calls, took.Round(time.Millisecond),
		float64(calls)/took.Seconds(), (took / calls).Round(time.Microsecond))
	o.waitIdle(t, 5*time.Second)
	// The heap is not compared: sipgo keeps finished transactions for
	// 64*T1 (RFC 6026), which dominates it; what is ours must be empty.
	if o.b2b.InCall("HD1") || o.b2b.InCall("HD2") || len(o.b2b.Live()) != 0 {
		t.Error("calls still tracked after they ended")
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+5 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines %d after %d calls, baseline %d\n%s", runtime.NumGoroutine(), calls, base, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(o.calls(t, "202")); n != 10 {
		t.Errorf("FindCalls limit 10 returned %d", n)
	}
}

// TestOfferlessInvite: a caller that sends no SDP gets the callee's offer
// in the 200, and its answer (in the ACK) reaches the callee unchanged.
func TestOfferlessInvite(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c, err := o.hd1.DialWith("202", siptest.DialOptions{NoSDP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Hangup()
	in := o.hd2.MustWaitIncoming(t, 2*time.Second)
	if len(in.Request.Body()) != 0 {
		t.Errorf("callee got an offer from nowhere:\n%s", in.Request.Body())
	}
	if !strings.Contains(string(c.Response.Body()), "m=audio") {
		t.Fatalf("caller's 200 has no offer:\n%s", c.Response.Body())
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(in.Received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := in.Received()
	if len(got) != 1 || got[0].Method != sip.ACK || string(got[0].Body()) != string(c.Media.Offer("0")) {
		t.Fatalf("callee's ACK should carry the caller's answer, got %v", got)
	}
}

func TestLiveCallsAndInCall(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c, err := o.hd1.Dial("202")
	if err != nil {
		t.Fatal(err)
	}
	live := o.b2b.Live()
	if len(live) != 1 || live[0].Extension != "201" || live[0].Device != "HD1" || live[0].To != "202" ||
		live[0].State != b2bua.StateConfirmed || live[0].CallID == "" || live[0].Since.IsZero() {
		t.Errorf("live %+v", live)
	}
	js, _ := json.Marshal(live)
	for _, key := range []string{`"call_id"`, `"from"`, `"to"`, `"extension"`, `"device"`, `"state"`, `"since"`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("LiveCall JSON lacks %s: %s", key, js)
		}
	}
	if !o.b2b.InCall("HD1") || !o.b2b.InCall("HD2") || o.b2b.InCall("HD3") {
		t.Error("InCall should report the caller's and the answering device only")
	}
	o.hangUp(t, c)
	if o.b2b.InCall("HD1") || o.b2b.InCall("HD2") || len(o.b2b.Live()) != 0 {
		t.Error("call still listed after hang-up")
	}
}

// TestConcurrentCalls runs calls between ten pairs of users at once: each
// call is owned by its own goroutine and nothing crosses between them.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	p := mustPBX(t)
	const pairs = 10
	type pair struct{ caller, callee *siptest.Phone }
	var ps []pair
	for i := range pairs {
		a, b := fmt.Sprintf("3%02d", i), fmt.Sprintf("4%02d", i)
		p.mustUser(t, hotdesk.User{Extension: a})
		p.mustUser(t, hotdesk.User{Extension: b})
		pa := p.mustDevice(t, hotdesk.Device{ID: "A" + a})
		pb := p.mustDevice(t, hotdesk.Device{ID: "B" + b})
		p.login(t, a, "A"+a)
		p.login(t, b, "B"+b)
		ps = append(ps, pair{pa, pb})
	}
	errs := make(chan error, pairs)
	for i, pr := range ps {
		go func() {
			want := fmt.Sprintf("3%02d", i)
			for range 5 {
				c, err := pr.caller.Dial(fmt.Sprintf("4%02d", i))
				if err != nil {
					errs <- err
					return
				}
				in, err := pr.callee.WaitIncoming(3 * time.Second)
				if err != nil {
					errs <- err
					return
				}
				if got := in.Request.From().Address.User; got != want {
					errs <- fmt.Errorf("callee of %s got a call from %s", want, got)
					return
				}
				if err := c.Hangup(); err != nil {
					errs <- err
					return
				}
				select {
				case <-in.Ended():
				case <-time.After(3 * time.Second):
					errs <- fmt.Errorf("callee of %s got no BYE", want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range pairs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	p.waitIdle(t, 5*time.Second)
	for i := range pairs {
		if n := len(p.calls(t, fmt.Sprintf("4%02d", i))); n != 5 {
			t.Errorf("callee 4%02d has %d records, want 5", i, n)
		}
	}
}

// TestMaxCallDuration: a connected call nobody hangs up ends at the limit
// with a BYE to both sides.
func TestMaxCallDuration(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	start := time.Now()
	c, in := o.mustRing(t)
	if err := c.WaitBye(maxCall + 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < maxCall {
		t.Errorf("BYE after %v, before the %v limit", d, maxCall)
	}
	mustEnd(t, in, "callee got no BYE")
}
