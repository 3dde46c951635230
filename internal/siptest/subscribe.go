package siptest

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Subscribe sends SUBSCRIBE for event (e.g. "dialog") on ext's AOR at the
// PBX for expires seconds, answering a 401/407 challenge once, and returns
// the final response. NOTIFYs arrive in Notifies/WaitNotify.
func (p *Phone) Subscribe(ext, event string, expires int) (*sip.Response, error) {
	build := func(cseq uint32) *sip.Request {
		req := sip.NewRequest(sip.SUBSCRIBE, p.serverURI(ext))
		req.SetDestination(p.opts.Server)
		from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.opts.User, Host: p.opts.Domain}, Params: sip.NewParams()}
		from.Params.Add("tag", sip.GenerateTagN(8))
		req.AppendHeader(from)
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: p.opts.Domain}})
		cid := sip.CallIDHeader(fmt.Sprintf("sub-%s-%s-%d", p.opts.User, ext, p.port))
		req.AppendHeader(&cid)
		req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.SUBSCRIBE})
		c := p.contactHeader()
		req.AppendHeader(&c)
		req.AppendHeader(sip.NewHeader("Event", event))
		if event == "dialog" {
			req.AppendHeader(sip.NewHeader("Accept", "application/dialog-info+xml"))
		}
		req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
		return req
	}
	req := build(1)
	res, err := p.do(req)
	if err != nil || (res.StatusCode != sip.StatusUnauthorized && res.StatusCode != sip.StatusProxyAuthRequired) {
		return res, err
	}
	chal, cred := "Proxy-Authenticate", "Proxy-Authorization"
	if res.StatusCode == sip.StatusUnauthorized {
		chal, cred = "WWW-Authenticate", "Authorization"
	}
	req2 := build(2)
	if err := p.authorize(req2, res, chal, cred); err != nil {
		return nil, err
	}
	return p.do(req2)
}

// Lamp is what a message-summary NOTIFY body (RFC 3842) shows, as
// "yes|no ACCOUNT NEW/OLD": "yes sip:201@pbx 1/0" is a lit lamp for one
// new message of 201's.
func Lamp(body []byte) string {
	var waiting, account, voice string
	for line := range strings.SplitSeq(string(body), "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "Messages-Waiting":
			waiting = v
		case "Message-Account":
			account = v
		case "Voice-Message":
			voice, _, _ = strings.Cut(v, " ")
		}
	}
	return waiting + " " + account + " " + voice
}
