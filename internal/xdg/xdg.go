// Package xdg names crashrig's directories after the XDG base directory
// conventions: state (the results database and console logs) and cache
// (guest binaries, images, probe answers, fetched kernels).
package xdg

import (
	"os"
	"path/filepath"
)

func dir(env, fallback string) string {
	if d := os.Getenv(env); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "crashrig")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, fallback, "crashrig")
}

// StateDir is $XDG_STATE_HOME/crashrig (default ~/.local/state/crashrig).
func StateDir() string { return dir("XDG_STATE_HOME", ".local/state") }

// CacheDir is $CRASHRIG_CACHE, or $XDG_CACHE_HOME/crashrig (default
// ~/.cache/crashrig); scripts/fetch-test-kernel uses the same rule.
func CacheDir() string {
	if d := os.Getenv("CRASHRIG_CACHE"); d != "" {
		return d
	}
	return dir("XDG_CACHE_HOME", ".cache")
}
