package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const buildinfoPkg = "github.com/hotdesk-pbx/hotdesk/internal/buildinfo"

// Issue 17: `hotdesk version` and `--version` print the version, commit and
// build date stamped with -ldflags (as scripts/package does); /healthz and
// /metrics show the same build.
func TestVersionStampedWithLdflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hotdesk")
	ld := "-X " + buildinfoPkg + ".version=9.8.7 -X " + buildinfoPkg + ".commit=c0ffee123456 -X " + buildinfoPkg + ".date=2026-12-01T20:00:00Z"
	if out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	want := "hotdesk 9.8.7 (commit c0ffee123456, built 2026-12-01T20:00:00Z, go"
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("hotdesk %s: %v %q; want %q…", arg, err, out, want)
		}
	}

	p := startBin(t, bin, nil, serveArgs(t.TempDir())...)
	base := p.baseURL(t, 30*time.Second)
	code, body := get(t, base+"/healthz", "")
	var h map[string]string
	if code != 200 || json.Unmarshal([]byte(body), &h) != nil || h["version"] != "9.8.7" || h["commit"] != "c0ffee123456" || h["date"] != "2026-12-01T20:00:00Z" {
		t.Errorf("/healthz: %d %s", code, body)
	}
	_, metrics := get(t, base+"/metrics", "")
	if !strings.Contains(metrics, `hotdesk_build_info{commit="c0ffee123456",date="2026-12-01T20:00:00Z",goversion="go`) || !strings.Contains(metrics, `version="9.8.7"} 1`) {
		t.Errorf("/metrics lacks hotdesk_build_info:\n%s", grepLines(metrics, "build_info"))
	}
}

// Without -ldflags, a build in a git checkout still names its commit
// (Go's VCS stamping).
func TestVersionFromVCS(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	top, _ := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a git worktree (.git is a file): Go stamps VCS info only in a checkout whose .git is a directory")
	}
	// -buildvcs=true: GOFLAGS may turn stamping off (this machine's does).
	bin := filepath.Join(t.TempDir(), "hotdesk")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "commit "+string(head[:12])) {
		t.Errorf("hotdesk version: %v %q; want commit %s", err, out, head[:12])
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
