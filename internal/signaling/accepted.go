package signaling

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// A UDP INVITE answered 2xx keeps its sipgo server transaction in the
// "Accepted" state (RFC 6026 7.1), where retransmissions of the INVITE are
// absorbed, for 64*T1 — unless the dialog ends first: sipgo's ReadBye and
// Bye terminate it at once. A retransmission read after that (sent before
// the phone had the 200 and read late under load: by another read loop, or
// queued behind a busy core) found no transaction, so it was handled as a
// new INVITE: its credentials' nonce-count being used already, it was
// challenged with a 407 (issue 18 review; had the registrar taken them, it
// would have been a second call). So every UDP INVITE handled through
// sipgo is remembered (as answered's keys, forgotten after answeredFor to
// 2×answeredFor, which covers a retransmission in flight; Serve's ticker
// expires them without traffic): one that reaches the handlers
// again had its transaction end, and is dropped as the transaction would
// have absorbed it. Remembered before it is handled, not once its
// transaction ended: a retransmission read between the dialog's end and
// the handler's return would be missed. A non-2xx answer keeps its
// transaction until Timer H or I (sipgo absorbs the retransmissions and
// repeats the answer); a retransmission after that is dropped too. TCP and
// TLS retransmit no INVITE.

// routeInvite routes an INVITE read with a sipgo transaction (route).
func (s *Server) routeInvite(req *sip.Request, tx sip.ServerTransaction) {
	if stx, ok := tx.(*sip.ServerTx); ok && req.Transport() == "UDP" {
		if _, seen := s.invites.begin(stx.Key(), time.Now()); seen {
			return // absorbed: sipgo terminates the new transaction unanswered
		}
	}
	s.routeTo(sip.INVITE, req, tx, nil)
}
