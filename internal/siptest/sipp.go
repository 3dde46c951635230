package siptest

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// MustSipp returns the path of sipp (Debian's sip-tester), the real SIP
// peer of the protocol tests. Without it the test is skipped, except on CI
// (CI set), where scripts/test installs it and a missing sipp is a failure.
func MustSipp(tb testing.TB) string {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("sipp tests run on Linux")
	}
	bin, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("sipp not installed")
		}
		tb.Skip("sipp not installed (Debian package sip-tester)")
	}
	return bin
}
