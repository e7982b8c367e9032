package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version describes this build: the module version (a tag when built with
// go install module@version, a pseudo-version naming the commit from a
// checkout), the VCS revision and time when the version does not name them,
// whether the tree had changes, and the Go toolchain.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information) " + runtime.Version()
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+changes"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	// Go stamps a pseudo-version such as v0.0.0-20261206192533-a3a77b60200d+dirty
	// from the revision; older toolchains leave "(devel)" and the settings.
	if rev != "" && !strings.Contains(v, rev) {
		v += fmt.Sprintf(" %s%s", rev, dirty)
		if when != "" {
			v += " " + when
		}
	}
	return fmt.Sprintf("%s %s %s/%s", v, bi.GoVersion, runtime.GOOS, runtime.GOARCH)
}
