package feature

import (
	"context"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
)

// byeTimeout bounds the PBX's BYE at the end of a call.
const byeTimeout = 10 * time.Second

// call is one feature-code call. The goroutine running HandleInvite owns
// it; HandleInDialog (sipgo goroutines) only answers in-dialog requests and
// signals the owner through the dialog state, its context and the media
// session.
type call struct {
	s       *Service
	dlg     *sipgo.DialogServerSession
	sess    *media.Session
	prompts PromptSet
	callID  string
	contact *sip.ContactHeader
	log     *slog.Logger

	answered     bool       // owner only
	parts        [][]int16  // owner only: Play's prompts, reused
	partsBuf     [8][]int16 // parts' first backing array
	order        *infoOrder
	first, inter time.Duration // digit timeouts

	mu  sync.Mutex
	sdp []byte // our current SDP (answer, or offer for an offerless INVITE)
}

// HandleInvite answers an authenticated INVITE from dev for code and runs
// the call to its end. It blocks until then; sipgo runs each request in its
// own goroutine.
func (s *Service) HandleInvite(req *sip.Request, tx sip.ServerTransaction, dev *hotdesk.Device, code Code) {
	s.active.Add(1)
	defer s.active.Add(-1)
	c, status := s.newCall(req, tx, dev)
	if c == nil {
		signaling.Respond(tx, req, status, s.log)
		return
	}
	defer c.close()
	c.log = s.log.With("call_id", c.callID, "device", dev.ID, "code", code.String())
	ctx := c.dlg.Context()
	if code.Family == FamilyVoicemail {
		s.mailbox(ctx, c, req, dev, code)
		return
	}
	f := &flow{rules: s.rules, io: c, dev: dev, source: req.Source(), now: s.now, log: c.log, moved: s.moved}
	err := f.run(ctx, code)
	if ctx.Err() != nil {
		c.log.Debug("feature call ended by caller")
		return
	}
	if err != nil {
		c.log.Info("feature call failed", "err", err)
	}
	// The flow is over: free the RTP port before the BYE, which to a
	// caller that vanished (no ACK for our 200 within Timer H) waits
	// byeTimeout for an answer that never comes.
	c.sess.Close()
	c.hangup()
}

// newCall prepares the dialog and the media session. On failure it returns
// the status to reject the INVITE with.
func (s *Service) newCall(req *sip.Request, tx sip.ServerTransaction, dev *hotdesk.Device) (*call, int) {
	contact := s.contact(req)
	ua := &sipgo.DialogUA{Client: s.sip.Client, ContactHDR: *contact, RewriteContact: true}
	dlg, err := ua.ReadInvite(req, tx)
	if err != nil {
		return nil, sip.StatusBadRequest
	}
	// SRTP keys only over TLS, as the device's policy allows.
	sec := media.Security{Secure: signaling.Secure(req), SRTP: dev.SRTP}
	return s.newCallOn(dlg, req, contact, sec)
}

// newCallOn prepares the call on a dialog already read (a call the B2BUA
// hands over to voicemail, or newCall's).
func (s *Service) newCallOn(dlg *sipgo.DialogServerSession, req *sip.Request, contact *sip.ContactHeader, sec media.Security) (*call, int) {
	sess, err := media.NewSessionWith(media.SessionOptions{Pool: s.ports, LocalIP: s.mediaIP, Logger: s.log, Security: sec,
		FlowIP: media.SourceIP(req.Source())})
	if err != nil {
		s.log.Warn("feature: media session", "err", err)
		return nil, sip.StatusServiceUnavailable
	}
	c := &call{s: s, dlg: dlg, sess: sess, callID: req.CallID().Value(), contact: contact, log: s.log}
	c.parts = c.partsBuf[:0]
	c.order = newInfoOrder(req.CSeq().SeqNo, sess.InjectDigit)
	c.first, c.inter = s.digitTimeouts(context.Background())
	if body := req.Body(); len(body) > 0 {
		c.sdp, err = sess.Answer(body)
	} else {
		c.sdp, err = sess.Offer() // the answer comes in the ACK
	}
	if err == nil {
		c.prompts, err = s.promptSet(context.Background())
		if err != nil {
			s.log.Error("feature: no prompts", "err", err)
			sess.Close()
			return nil, sip.StatusServiceUnavailable
		}
	}
	if err != nil {
		sess.Close()
		return nil, sip.StatusNotAcceptableHere
	}
	s.sip.AddDialog(c.callID, c)
	return c, 0
}

// contact is the PBX's Contact for this call, on the transport it came in.
func (s *Service) contact(req *sip.Request) *sip.ContactHeader {
	uri := sip.Uri{Scheme: "sip", Host: s.sip.Hostname()}
	if t := strings.ToLower(req.Transport()); t == "tls" && s.sip.TLSAddr() != nil {
		ct := s.sip.Contact(t)
		return &ct
	} else if t == "tcp" && s.sip.TCPAddr() != nil {
		uri.Port = s.sip.TCPAddr().Port
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	} else if s.sip.UDPAddr() != nil {
		uri.Port = s.sip.UDPAddr().Port
	}
	return &sip.ContactHeader{Address: uri}
}

// close releases the media session and stops routing the dialog.
func (c *call) close() {
	c.order.stop()
	c.sess.Close()
	c.s.sip.RemoveDialog(c.callID)
	c.dlg.Close()
}

// answer sends 200 OK with our SDP once and waits for the ACK (sipgo
// retransmits the 200 until then).
func (c *call) answer() error {
	if c.answered {
		return nil
	}
	c.answered = true
	res := sip.NewSDPResponseFromRequest(c.dlg.InviteRequest, c.currentSDP())
	res.AppendHeader(c.contact)
	res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, INFO, OPTIONS, UPDATE"))
	if err := c.dlg.WriteResponse(res); err != nil {
		return err
	}
	// From now on RTP flows, silence while no prompt plays: phones and
	// SBCs drop a call that sends nothing while the caller types.
	c.sess.Start()
	return nil
}

// Play answers the call if needed and plays the named prompts.
func (c *call) Play(ctx context.Context, names ...string) error {
	if err := c.answer(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The prompts play from their shared samples: joining them (Say)
	// copied about 64 kB per login confirmation.
	c.parts = c.prompts.Parts(c.parts[:0], names...)
	return c.sess.PlaySegments(ctx, prompts.Gap, c.parts...)
}

// Collect reads keys up to '#' with the first- and inter-digit timeouts.
func (c *call) Collect(ctx context.Context) (string, error) {
	if err := c.answer(); err != nil {
		return "", err
	}
	return c.sess.CollectDigits(ctx, 0, c.first, c.inter)
}

// hangup sends BYE at the end of the flow.
func (c *call) hangup() {
	if !c.answered || c.dlg.LoadState() == sip.DialogStateEnded {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := c.dlg.Bye(ctx); err != nil {
		c.log.Debug("feature: bye", "err", err)
	}
}

func (c *call) currentSDP() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sdp
}
