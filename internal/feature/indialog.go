package feature

import (
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// HandleInDialog answers requests within a feature-code call. It never
// blocks on the call: the owner goroutine learns of a BYE or CANCEL through
// the dialog's context and of DTMF through the media session.
func (c *call) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if req.Method != sip.ACK && req.Method != sip.CANCEL && req.Method != sip.INFO {
		c.noteCSeq(req, 0) // a number INFOs after it do not wait for
	}
	switch req.Method {
	case sip.ACK:
		c.onAck(req, tx)
	case sip.BYE:
		c.onBye(req, tx)
	case sip.INFO:
		c.onInfo(req, tx)
	case sip.INVITE, sip.UPDATE:
		c.onOffer(req, tx)
	case sip.CANCEL, sip.PRACK, sip.OPTIONS:
		// A CANCEL that reaches us matched no pending INVITE (the call is
		// answered): it has no effect (RFC 3261 section 9.2).
		signaling.Respond(tx, req, sip.StatusOK, c.log)
	default:
		res := sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, signaling.Reason(sip.StatusMethodNotAllowed), nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, INFO, OPTIONS, UPDATE"))
		if err := tx.Respond(res); err != nil {
			c.log.Debug("feature: respond 405", "err", err)
		}
	}
}

// onAck confirms the dialog; an ACK with SDP answers our offer.
func (c *call) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if body := req.Body(); len(body) > 0 {
		if err := c.sess.SetAnswer(body); err != nil {
			c.log.Info("feature: ACK answer not usable", "err", err)
		}
	}
	if err := c.dlg.ReadAck(req, tx); err != nil {
		c.log.Debug("feature: ack", "err", err)
	}
}

// onBye answers 200 and stops the media at once; the owner sees the dialog
// end and returns.
func (c *call) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := c.dlg.ReadBye(req, tx); err != nil {
		signaling.Respond(tx, req, sip.StatusBadRequest, c.log)
		return
	}
	c.sess.Close()
}

// onInfo takes a key press from SIP INFO (application/dtmf-relay or
// application/dtmf). Other INFO packages get 415.
func (c *call) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	key, ok := ParseDTMFInfo(ct, req.Body())
	if !ok {
		c.noteCSeq(req, 0) // its number is used; keys after it need not wait
		if isDTMFType(ct) {
			signaling.Respond(tx, req, sip.StatusBadRequest, c.log)
		} else {
			signaling.Respond(tx, req, sip.StatusUnsupportedMediaType, c.log)
		}
		return
	}
	// The key goes to the session before the 200: a phone that waits for
	// each 200 sends the next key only then, and that INFO's goroutine
	// must not overtake this one (it did, and a PIN 1234 arrived as 12#34).
	c.noteCSeq(req, key)
	signaling.Respond(tx, req, sip.StatusOK, c.log)
}

// noteCSeq passes an in-dialog request's CSeq (and key) to the INFO order.
func (c *call) noteCSeq(req *sip.Request, key rune) {
	cs := req.CSeq()
	if cs == nil {
		return
	}
	if !c.order.note(cs.SeqNo, key) && key != 0 {
		c.log.Debug("feature: INFO key dropped (duplicate or too late)", "cseq", cs.SeqNo)
	}
}

// onOffer answers a re-INVITE or UPDATE: with SDP, a new answer from the
// same session (488 if unusable); without, our current SDP.
func (c *call) onOffer(req *sip.Request, tx sip.ServerTransaction) {
	if err := c.dlg.ReadRequest(req, tx); err != nil {
		signaling.Respond(tx, req, sip.StatusInternalServerError, c.log)
		return
	}
	sdp := c.currentSDP()
	if body := req.Body(); len(body) > 0 {
		ans, err := c.sess.Answer(body)
		if err != nil {
			signaling.Respond(tx, req, sip.StatusNotAcceptableHere, c.log)
			return
		}
		c.mu.Lock()
		c.sdp, sdp = ans, ans
		c.mu.Unlock()
	} else if req.Method == sip.UPDATE {
		signaling.Respond(tx, req, sip.StatusOK, c.log)
		return
	}
	res := sip.NewSDPResponseFromRequest(req, sdp)
	if to := res.To(); to != nil {
		if tag, ok := c.dlg.InviteResponse.To().Params.Get("tag"); ok && !to.Params.Has("tag") {
			to.Params.Add("tag", tag)
		}
	}
	res.AppendHeader(c.contact)
	if err := tx.Respond(res); err != nil {
		c.log.Debug("feature: respond to re-offer", "err", err)
	}
}

func isDTMFType(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return ct == "application/dtmf-relay" || ct == "application/dtmf"
}

// ParseDTMFInfo extracts the key of a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160"; Signal=10/11 are * and #) or
// application/dtmf ("5").
func ParseDTMFInfo(contentType string, body []byte) (rune, bool) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch ct {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				return dtmfKey(strings.TrimSpace(v))
			}
		}
		return 0, false
	case "application/dtmf":
		return dtmfKey(strings.TrimSpace(string(body)))
	}
	return 0, false
}

// dtmfKey maps "0"-"9", "*", "#", "A"-"D" and the event codes 10-15.
func dtmfKey(s string) (rune, bool) {
	if len(s) == 1 {
		r := rune(strings.ToUpper(s)[0])
		if (r >= '0' && r <= '9') || r == '*' || r == '#' || (r >= 'A' && r <= 'D') {
			return r, true
		}
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 10 || n > 15 {
		return 0, false
	}
	return rune("*#ABCD"[n-10]), true
}
