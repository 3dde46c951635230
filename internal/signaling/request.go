package signaling

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
)

// NewRequestTo builds an out-of-dialog request to a registered contact. The
// Request-URI is the contact as registered; the packet goes to the address
// the REGISTER came from (so phones behind NAT are reached) over the same
// transport, reusing the phone's TCP connection where there is one.
// From, To, Call-ID, CSeq and Via are left for the caller or sipgo to fill.
func NewRequestTo(method sip.RequestMethod, b hotdesk.Binding) (*sip.Request, error) {
	var uri sip.Uri
	contact := strings.Trim(b.Contact, "<>")
	if err := sip.ParseUri(contact, &uri); err != nil {
		return nil, fmt.Errorf("parse contact %q: %w", b.Contact, err)
	}
	if uri.Host == "" {
		return nil, fmt.Errorf("contact %q has no host", b.Contact)
	}
	req := sip.NewRequest(method, uri)
	if b.Source != "" {
		req.SetDestination(b.Source)
	}
	if t := strings.ToUpper(b.Transport); t != "" {
		req.SetTransport(t)
	}
	return req, nil
}
