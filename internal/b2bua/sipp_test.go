package b2bua_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// providerIP is the loopback address the sipp "provider" uses, so that
// its source differs from the test phones' 127.0.0.1.
const providerIP = "127.0.0.2"

// startSipp runs one call (-m 1) of scenario on providerIP:port with extra
// args, for at most 30 s.
func startSipp(tb testing.TB, scenario string, port int, remote string, extra ...string) *siptest.SippRun {
	return startSippOn(tb, scenario, providerIP, port, remote, extra...)
}

// startSippOn is startSipp on local address ip.
func startSippOn(tb testing.TB, scenario, ip string, port int, remote string, extra ...string) *siptest.SippRun {
	tb.Helper()
	return siptest.Sipp{Scenario: scenario, Remote: remote, IP: ip, Port: port, Args: extra}.Start(tb)
}

// received returns the first SIP request of method sipp received.
func received(trace, method string) string {
	for _, block := range strings.Split(trace, "----------------------------------------------- ") {
		if !strings.Contains(block, "message received") {
			continue
		}
		_, msg, ok := strings.Cut(block, "\n\n")
		if !ok {
			_, msg, _ = strings.Cut(block, "\n")
		}
		msg = strings.TrimLeft(msg, "\r\n ")
		if strings.HasPrefix(msg, method+" ") {
			return msg
		}
	}
	return ""
}

// withTrunk points the site's trunk at the sipp provider on port.
func (p *pbx) withTrunk(tb testing.TB, port int) {
	tb.Helper()
	p.updateSettings(tb, func(st *hotdesk.Settings) {
		st.Trunk = hotdesk.Trunk{Enabled: true, Proxy: fmt.Sprintf("%s:%d", providerIP, port), Username: "pbxuser", Password: "s3cret",
			Realm: "provider.test", Domain: "provider.test", Sources: []string{providerIP + "/32"}}
	})
}

// provider starts the sipp provider UAS on transport (sipp -t: u1 or t1)
// and points the trunk at it.
func (p *pbx) provider(tb testing.TB, transport string) *siptest.SippRun {
	tb.Helper()
	port := siptest.FreePort(tb, providerIP)
	p.withTrunk(tb, port)
	return startSipp(tb, "call_trunk_uas.xml", port, "", "-t", transport, "-key", "trunkuser", "pbxuser", "-key", "trunkpass", "s3cret")
}

// deviceArgs are sipp's arguments to act as device (injection file with
// its digest credentials, the PBX's domain).
func deviceArgs(tb testing.TB, device string) []string {
	tb.Helper()
	inf := filepath.Join(tb.TempDir(), "users.csv")
	line := fmt.Sprintf("SEQUENTIAL\n%s;[authentication username=%s password=pw-%s]\n", device, device, device)
	if err := os.WriteFile(inf, []byte(line), 0o600); err != nil {
		tb.Fatal(err)
	}
	return []string{"-inf", inf, "-key", "domain", realm}
}
