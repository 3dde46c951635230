// Package nat tests Hotdesk PBX with a phone behind NAT (issue 15): the
// test builds `hotdesk serve`, makes three network namespaces — "home"
// (a phone on 10.0.1.2) behind "router" (iptables MASQUERADE onto
// 10.0.2.1, a short UDP conntrack timeout) and "office" (the PBX on
// 10.0.2.2 and another phone on 10.0.2.3) — and drives raw-SIP phones whose
// sockets it opens inside those namespaces. No packet leaves them.
//
// The test needs root (ip netns, iptables); it skips otherwise, unless
// CI=true, when it fails.
package nat
