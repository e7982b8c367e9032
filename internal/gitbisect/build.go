package gitbisect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/kbuild"
)

// errBuild marks a commit that does not build (or builds no kernel): it is skipped.
var errBuild = errors.New("build failed")

// kernelFor returns the cached kernel of the commit checked out in the tree, building it
// when the cache has none. A commit whose build failed before fails again at once: delete
// its directory under kernels/ to try again.
func (b *bisection) kernelFor(ctx context.Context, commit string) (string, error) {
	dir := filepath.Join(b.o.Work, "kernels", short(commit)+"-"+b.cfgHash[:12])
	out := filepath.Join(dir, "bzImage")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if why, err := os.ReadFile(filepath.Join(dir, "failed")); err == nil {
		return "", fmt.Errorf("%w (cached, see %s): %s", errBuild, filepath.Join(dir, "build.log"), why)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if b.o.ConfigFile != "" {
		if err := kbuild.Copy(b.o.ConfigFile, filepath.Join(b.tree, ".config")); err != nil {
			return "", err
		}
	}
	logPath := filepath.Join(dir, "build.log")
	start := time.Now()
	b.logf("building %s: %s", short(commit), b.o.Build)
	if err := kbuild.Run(ctx, b.tree, []string{"sh", "-c", b.o.Build}, nil, logPath); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", b.failed(dir, fmt.Sprintf("%s: %v", b.o.Build, err))
	}
	src := b.o.Kernel
	if !filepath.IsAbs(src) {
		src = filepath.Join(b.tree, src)
	}
	if err := kbuild.Copy(src, out); err != nil {
		return "", b.failed(dir, fmt.Sprintf("no kernel after the build: %v", err))
	}
	b.logf("built %s in %s", short(commit), time.Since(start).Round(time.Second))
	return out, nil
}

// failed remembers why a commit did not build.
func (b *bisection) failed(dir, why string) error {
	atomicfile.WriteBytes(filepath.Join(dir, "failed"), 0o600, []byte(why))
	return fmt.Errorf("%w: %s (log %s)", errBuild, why, filepath.Join(dir, "build.log"))
}

// fileHash returns the hex SHA-256 of a file's contents, or of nothing for "".
func fileHash(path string) (string, error) {
	h := sha256.New()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if _, err := io.Copy(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
