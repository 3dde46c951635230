// Package buildinfo says which build of Hotdesk PBX is running: version,
// commit and build date, for `hotdesk version`, /healthz, /metrics
// (hotdesk_build_info) and the console footer.
//
// Release builds (scripts/package) set all three with -ldflags:
//
//	-X github.com/hotdesk-pbx/hotdesk/internal/buildinfo.version=1.2.0
//	-X github.com/hotdesk-pbx/hotdesk/internal/buildinfo.commit=<sha>
//	-X github.com/hotdesk-pbx/hotdesk/internal/buildinfo.date=<RFC 3339>
//
// Without them, Go's build info fills in what it knows: the module version
// (`go install …@v1.2.0`, or a pseudo-version from the VCS when built in a
// git checkout), the commit (vcs.revision, "-dirty" when the tree had
// uncommitted changes) and the commit time (vcs.time) as the date.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Set with -ldflags -X (see the package comment).
var version, commit, date string

// Info describes the running build. Empty fields are unknown.
type Info struct {
	Version   string `json:"version"` // "dev" when unknown
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"` // build date (-ldflags) or commit time (VCS)
	GoVersion string `json:"go"`
}

var (
	once sync.Once
	info Info
)

// Get returns the build's Info (computed once).
func Get() Info {
	once.Do(func() { info = read(version, commit, date, debug.ReadBuildInfo) })
	return info
}

func read(v, c, d string, readBI func() (*debug.BuildInfo, bool)) Info {
	i := Info{Version: v, Commit: c, Date: d, GoVersion: runtime.Version()}
	bi, ok := readBI()
	if ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		var rev, at string
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if i.Commit == "" && rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			i.Commit = rev
		}
		if i.Date == "" {
			i.Date = at
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	return i
}

// String is the one-line form `hotdesk version` prints:
// "hotdesk 1.2.0 (commit 0123456789ab, built 2026-12-01T20:00:00Z, go1.26.8)".
func (i Info) String() string {
	s := "hotdesk " + i.Version + " ("
	if i.Commit != "" {
		s += "commit " + i.Commit + ", "
	}
	if i.Date != "" {
		s += "built " + i.Date + ", "
	}
	return s + i.GoVersion + ")"
}

// Short is the version with the commit when known: "1.2.0 (0123456789ab)".
func (i Info) Short() string {
	if i.Commit == "" {
		return i.Version
	}
	return i.Version + " (" + i.Commit + ")"
}
