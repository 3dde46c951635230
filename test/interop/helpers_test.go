package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// linphoneAccount is one account of a linphonerc: a demo device or
// softphone registering with the PBX on 127.0.0.1 at port over transport.
type linphoneAccount struct {
	transport string // udp, tcp or tls
	port      int    // the PBX's port
	name      string // display name
	user      string // device id; its password is demo-<user>-secret
}

// linphoneRC is a linphonerc: the [sip] section's own lines sip (ports,
// TLS, media encryption), the settings every test uses (SIP INFO for DTMF,
// no echo canceller, no video), the RTP port and one proxy and
// auth_info per account.
func linphoneRC(sip string, rtpPort int, accounts ...linphoneAccount) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[sip]\n%suse_info=1\nuse_rfc2833=0\ndefault_proxy=0\nping_with_options=0\n\n", sip)
	fmt.Fprintf(&b, "[rtp]\naudio_rtp_port=%d\n\n[sound]\nechocancellation=0\n\n[video]\ndisplay=0\ncapture=0\n", rtpPort)
	for i, a := range accounts {
		fmt.Fprintf(&b, "\n[proxy_%d]\nreg_proxy=<sip:127.0.0.1:%d;transport=%s>\nreg_route=<sip:127.0.0.1:%d;transport=%s;lr>\n"+
			"reg_identity=%q <sip:%s@hotdesk.local>\nreg_expires=600\nreg_sendregister=1\npublish=0\n",
			i, a.port, a.transport, a.port, a.transport, a.name, a.user)
	}
	for i, a := range accounts {
		fmt.Fprintf(&b, "\n[auth_info_%d]\nusername=%s\npasswd=demo-%s-secret\nrealm=hotdesk.local\ndomain=hotdesk.local\n", i, a.user, a.user)
	}
	return b.String()
}

// callLinphone has baresip call ext, which linphonec answers (auto
// answer), talk for talk and hang up; it returns when both ended the call.
func callLinphone(t *testing.T, bs *baresip, lp *linphone, ext string, talk time.Duration) {
	t.Helper()
	lp.skip()
	bs.dialAnswered(t, ext)
	lp.waitLine(t, 10*time.Second, "Media streams established")
	time.Sleep(talk) // the call carries audio this long
	bs.cmd(t, "hangup", "")
	bs.waitEvent(t, 10*time.Second, "CALL_CLOSED")
	lp.waitLine(t, 10*time.Second, "ended")
}
