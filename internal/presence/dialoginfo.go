package presence

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ContentType is the RFC 4235 body type.
const ContentType = "application/dialog-info+xml"

// Dialog states (RFC 4235 section 3.7.1).
const (
	StateTrying     = "trying"
	StateEarly      = "early"
	StateConfirmed  = "confirmed"
	StateTerminated = "terminated"
)

// callState is one call of a watched user, as last reported on the bus.
type callState struct {
	ID        string // Call-ID of the user's leg
	State     string
	Direction string // initiator | recipient
	Peer      string
	seq       int       // arrival order, for stable output
	updated   time.Time // last event, to forget calls never terminated
}

// dialogInfo renders a full-state dialog-info document. With no call in
// progress it reports one dialog in state "terminated", identified by the
// extension: an idle user (and one logged in nowhere) shows as terminated,
// which desk phones render as an idle BLF lamp (as Asterisk does); an empty
// document leaves some phones' lamps in an unknown state.
func dialogInfo(entity string, version int, calls []callState, domain string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="%d" state="full" entity="%s">`+"\n",
		version, esc(entity))
	if len(calls) == 0 {
		user := strings.TrimPrefix(strings.SplitN(entity, "@", 2)[0], "sip:")
		fmt.Fprintf(&b, "  <dialog id=\"%s\">\n    <state>%s</state>\n  </dialog>\n", esc(user), StateTerminated)
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].seq < calls[j].seq })
	for _, c := range calls {
		fmt.Fprintf(&b, `  <dialog id="%s" call-id="%s"`, esc(c.ID), esc(c.ID))
		if c.Direction == "initiator" || c.Direction == "recipient" {
			fmt.Fprintf(&b, ` direction="%s"`, c.Direction)
		}
		fmt.Fprintf(&b, ">\n    <state>%s</state>\n", esc(c.State))
		if c.Peer != "" {
			fmt.Fprintf(&b, "    <remote>\n      <identity>%s</identity>\n    </remote>\n", esc(peerURI(c.Peer, domain)))
		}
		b.WriteString("  </dialog>\n")
	}
	b.WriteString("</dialog-info>\n")
	return b.Bytes()
}

// peerURI turns a bare number into sip:number@domain.
func peerURI(peer, domain string) string {
	if strings.HasPrefix(peer, "sip:") || strings.HasPrefix(peer, "sips:") || strings.HasPrefix(peer, "tel:") {
		return peer
	}
	return "sip:" + peer + "@" + domain
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// stateOf maps a bus event kind to a dialog state ("" for other kinds).
func stateOf(kind string) string {
	switch kind {
	case kindTrying:
		return StateTrying
	case kindEarly:
		return StateEarly
	case kindConfirmed:
		return StateConfirmed
	case kindTerminated:
		return StateTerminated
	}
	return ""
}
