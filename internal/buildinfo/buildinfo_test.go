package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	vcs := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201200000-0123456789ab+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T20:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}, true
	}
	devel := func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true }
	none := func() (*debug.BuildInfo, bool) { return nil, false }

	if i := read("1.2.0", "abc", "2026-12-02T00:00:00Z", vcs); i.Version != "1.2.0" || i.Commit != "abc" || i.Date != "2026-12-02T00:00:00Z" {
		t.Errorf("-ldflags must win over build info: %+v", i)
	}
	if i := read("", "", "", vcs); i.Version != "v0.0.0-20261201200000-0123456789ab+dirty" || i.Commit != "0123456789ab-dirty" || i.Date != "2026-12-01T20:00:00Z" {
		t.Errorf("VCS stamping: %+v", i)
	}
	if i := read("", "", "", devel); i.Version != "dev" || i.Commit != "" {
		t.Errorf("no VCS: %+v", i)
	}
	i := read("", "", "", none)
	if i.Version != "dev" || !strings.HasPrefix(i.GoVersion, "go") {
		t.Errorf("no build info: %+v", i)
	}
	if s := read("1.2.0", "abc", "D", none).String(); !strings.HasPrefix(s, "hotdesk 1.2.0 (commit abc, built D, go") {
		t.Errorf("String: %q", s)
	}
	if s := read("1.2.0", "", "", none).Short(); s != "1.2.0" {
		t.Errorf("Short: %q", s)
	}
}
