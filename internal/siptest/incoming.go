package siptest

import (
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
)

// Incoming is a call the PBX made to the phone.
type Incoming struct {
	Request   *sip.Request
	Media     *mediatest.Phone // nil unless answered
	dlg       *sipgo.DialogServerSession
	endOnce   sync.Once
	ended     chan struct{}
	act       chan int // AnswerRing: status to answer with (Answer, Reject)
	mu        sync.Mutex
	inDlg     []*sip.Request // in-dialog requests the PBX sent
	confirmed chan struct{}  // closed when the answer was ACKed (or never will be)
	acks      []*sip.Request // every ACK received
	// responses are the final responses to Send's requests.
	responses []*sip.Response
}

func (in *Incoming) markEnded() { in.endOnce.Do(func() { close(in.ended) }) }

// Ended is closed when the incoming call ended (BYE or CANCEL).
func (in *Incoming) Ended() <-chan struct{} { return in.ended }

// WaitEnded waits for the call to end (BYE or CANCEL).
func (in *Incoming) WaitEnded(timeout time.Duration) error {
	return waitClosed(in.ended, timeout, "the call did not end")
}

// Confirmed is closed when the phone's answer was ACKed (or the wait for
// the ACK gave up); in-dialog requests may be sent from then on.
func (in *Incoming) Confirmed() <-chan struct{} { return in.confirmed }

// SetAnswerMode sets what the phone does with incoming INVITEs.
func (p *Phone) SetAnswerMode(m AnswerMode) {
	p.mu.Lock()
	p.answer = m
	p.mu.Unlock()
}

// MustWaitIncoming is WaitIncoming failing the test when no INVITE comes.
func (p *Phone) MustWaitIncoming(tb testing.TB, timeout time.Duration) *Incoming {
	tb.Helper()
	in, err := p.WaitIncoming(timeout)
	if err != nil {
		tb.Fatalf("siptest: %s: %v", p.opts.User, err)
	}
	return in
}

// WaitIncoming waits for the next incoming INVITE.
func (p *Phone) WaitIncoming(timeout time.Duration) (*Incoming, error) {
	select {
	case in := <-p.incoming:
		return in, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("siptest: %s: no incoming call within %v", p.opts.User, timeout)
	}
}

// incalls holds incoming calls per phone and Call-ID for in-dialog requests.
var incalls sync.Map // *Phone+callID → *Incoming

func (p *Phone) inCalls(callID string) *Incoming {
	v, ok := incalls.Load(fmt.Sprintf("%p/%s", p, callID))
	if !ok {
		return nil
	}
	return v.(*Incoming)
}

// onInvite answers per the answer mode; the handler goroutine owns the
// incoming call until it is answered or cancelled.
func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); ok {
		if p.onReoffer(req, tx) {
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	p.mu.Lock()
	mode := p.answer
	p.mu.Unlock()
	dlg, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	in := &Incoming{Request: req, dlg: dlg, ended: make(chan struct{}), act: make(chan int, 1), confirmed: make(chan struct{})}
	key := fmt.Sprintf("%p/%s", p, req.CallID().Value())
	incalls.Store(key, in)
	select {
	case p.incoming <- in:
	default:
	}
	switch mode {
	case AnswerBusy:
		_ = dlg.Respond(sip.StatusBusyHere, "Busy Here", nil)
		in.markEnded()
		incalls.Delete(key)
	case AnswerRing:
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		select {
		case <-dlg.Context().Done():
		case code := <-in.act:
			if code == sip.StatusOK {
				p.answerIncoming(in, key)
				return
			}
			_ = dlg.Respond(code, "Rejected", nil)
		case <-time.After(2 * time.Minute):
		}
		in.markEnded()
		incalls.Delete(key)
	default:
		p.answerIncoming(in, key)
	}
}

// answerIncoming answers with an SDP answer and holds the call until it
// ends.
func (p *Phone) answerIncoming(in *Incoming, key string) {
	media := mediatest.NewPhone(p.tb)
	if len(in.Request.Body()) > 0 {
		_ = media.SetAnswer(in.Request.Body())
	}
	p.mu.Lock()
	in.Media = media
	p.mu.Unlock()
	_ = in.dlg.RespondSDP(media.Offer()) // returns at the ACK
	close(in.confirmed)
	<-in.dlg.Context().Done()
	in.markEnded()
	incalls.Delete(key)
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if in := p.inCalls(req.CallID().Value()); in != nil {
		if len(req.Body()) > 0 {
			in.mu.Lock()
			in.inDlg = append(in.inDlg, req) // an ACK with the answer to our offer
			in.mu.Unlock()
		}
		in.mu.Lock()
		in.acks = append(in.acks, req)
		in.mu.Unlock()
		_ = in.dlg.ReadAck(req, tx)
	}
}

// Acks returns every ACK the phone received on this incoming call.
func (in *Incoming) Acks() []*sip.Request {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]*sip.Request(nil), in.acks...)
}
