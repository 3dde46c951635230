package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/app"
)

// /etc/default/hotdesk (packaging/hotdesk.default) documents every HOTDESK_*
// variable `hotdesk serve` reads, commented out.
func TestDefaultFileListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../packaging/hotdesk.default")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	cfg := app.DefaultConfig()
	serveFlags(&cfg, io.Discard).VisitAll(func(f *flag.Flag) {
		if !strings.Contains(text, "\n#"+envName(f.Name)+"=") {
			t.Errorf("packaging/hotdesk.default lacks a commented %s= line", envName(f.Name))
		}
	})
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "HOTDESK_") {
			t.Errorf("packaging/hotdesk.default sets %q: every line must stay commented", l)
		}
	}
}

// Issue 17 item 3: scripts/package builds a .deb; its files are where they
// belong, the unit passes systemd-analyze verify, and the packaged binary
// runs. The package is unpacked into a throwaway root (dpkg-deb -x) rather
// than installed, so the test is safe on any machine; set
// HOTDESK_TEST_DPKG_INSTALL=1 on a throwaway machine to also dpkg -i / -r it.
func TestDebianPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: building the package takes a while")
	}
	for _, tool := range []string{"dpkg-deb", "systemd-analyze", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/test installs it)", tool)
		}
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../../scripts/package")
	cmd.Env = append(os.Environ(), "HOTDESK_PACKAGE_OUT="+out, "HOTDESK_VERSION=1.2.3~test")
	t0 := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/package: %v\n%s", err, b)
	}
	took := time.Since(t0)
	deb := filepath.Join(out, "hotdesk_1.2.3~test_"+goarch(t)+".deb")
	fi, err := os.Stat(deb)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("package %s: %.1f MB, built in %v", filepath.Base(deb), float64(fi.Size())/1e6, took.Round(time.Second))

	run := func(name string, args ...string) string {
		t.Helper()
		b, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	if f := run("dpkg-deb", "-f", deb, "Package", "Version", "Architecture"); f != "Package: hotdesk\nVersion: 1.2.3~test\nArchitecture: "+goarch(t)+"\n" {
		t.Errorf("control fields:\n%s", f)
	}
	if c := run("dpkg-deb", "-I", deb, "conffiles"); strings.TrimSpace(c) != "/etc/default/hotdesk" {
		t.Errorf("conffiles: %q", c)
	}
	root := t.TempDir()
	run("dpkg-deb", "-x", deb, root)
	for path, mode := range map[string]os.FileMode{
		"usr/bin/hotdesk": 0o755, "usr/lib/systemd/system/hotdesk.service": 0o644, "etc/default/hotdesk": 0o644,
		"usr/share/doc/hotdesk/copyright": 0o644, "usr/share/doc/hotdesk/NOTICE": 0o644, "usr/share/doc/hotdesk/operations.md": 0o644,
		"usr/share/doc/hotdesk/contrib/prometheus/hotdesk.rules.yml": 0o644, "usr/share/doc/hotdesk/contrib/grafana/hotdesk.json": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(root, path))
		if err != nil {
			t.Errorf("/%s: %v", path, err)
		} else if fi.Mode().Perm() != mode {
			t.Errorf("/%s: mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	unit, _ := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system/hotdesk.service"))
	for _, want := range []string{"ExecStart=/usr/bin/hotdesk serve", "User=hotdesk", "StateDirectory=hotdesk", "Environment=HOTDESK_DATA=/var/lib/hotdesk",
		"EnvironmentFile=-/etc/default/hotdesk", "ProtectSystem=strict", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes", "StandardOutput=journal"} {
		if !strings.Contains(string(unit), "\n"+want+"\n") {
			t.Errorf("unit lacks %q", want)
		}
	}
	// systemd-analyze verify in the unpacked root: the targets the unit
	// refers to come from the host's unit directory.
	for _, dir := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if _, err := os.Stat(dir); err == nil {
			run("cp", "-an", dir+"/.", filepath.Join(root, "usr/lib/systemd/system")+"/")
			break
		}
	}
	if v, err := exec.Command("systemd-analyze", "verify", "--root="+root, "/usr/lib/systemd/system/hotdesk.service").CombinedOutput(); err != nil || len(strings.TrimSpace(string(v))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, v)
	}
	if v := run(filepath.Join(root, "usr/bin/hotdesk"), "version"); !strings.HasPrefix(v, "hotdesk 1.2.3~test (commit ") {
		t.Errorf("packaged binary's version: %q", v)
	}

	if os.Getenv("HOTDESK_TEST_DPKG_INSTALL") != "1" {
		return
	}
	run("dpkg", "-i", deb)
	defer run("dpkg", "-r", "hotdesk")
	if v := run("/usr/bin/hotdesk", "--version"); !strings.HasPrefix(v, "hotdesk 1.2.3~test") {
		t.Errorf("installed binary's version: %q", v)
	}
	run("getent", "passwd", "hotdesk")
}

func goarch(t *testing.T) string {
	b, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
