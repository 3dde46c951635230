// Package interop tests Hotdesk PBX against SIP clients nobody here wrote:
// Debian's baresip and linphone-cli (linphonec). The tests build the real
// `hotdesk serve` binary and run it, the clients and a packet capture inside
// a network namespace the test creates (only lo, with 127.0.0.3 and a default
// route on lo so linphone sees a network), so no packet can leave the
// machine. See docs/interop.md for what each client was seen to do.
//
// The tests skip when baresip, linphonec, ip or unshare are missing or no
// namespace can be made, unless HOTDESK_INTEROP is set (scripts/test sets
// it), in which case they fail instead.
package interop
