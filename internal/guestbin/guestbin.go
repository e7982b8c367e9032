// Package guestbin produces crashrig's static guest binary (the /init of
// every image and the built-in reproducers) from the sources embedded in
// package reproducer.
//
// The binary is built with the host's Go toolchain on first use
// (CGO_ENABLED=0, GOOS=linux, GOARCH=amd64, GOAMD64=v1, -trimpath, stripped)
// and kept in a cache keyed by the hash of the sources and the toolchain's
// version, so later runs pay only for that hash. The sources are standard
// library only: no module download is ever needed.
package guestbin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/gobuild"
	"github.com/crashrig/crashrig/reproducer"
)

// A Builder finds or builds the guest binary.
type Builder struct {
	CacheDir string                        // where built binaries are kept
	Go       string                        // go command ("" = "go" from PATH)
	Logf     func(format string, a ...any) // progress (nil = silent)
}

var sourceHash = sync.OnceValues(func() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(reproducer.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !buildable(p) {
			return err
		}
		b, err := reproducer.Source.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
})

// buildable reports whether an embedded file takes part in the build.
func buildable(p string) bool {
	return (strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".s")) &&
		!strings.HasSuffix(p, "_test.go") && !strings.Contains(p, "testdata/")
}

func (b Builder) logf(format string, a ...any) {
	if b.Logf != nil {
		b.Logf(format, a...)
	}
}

// Path returns the path of a guest binary built from the current sources,
// building it when the cache has none.
func (b Builder) Path(ctx context.Context) (string, error) {
	if p := os.Getenv("CRASHRIG_GUEST"); p != "" {
		return p, nil
	}
	src, err := sourceHash()
	if err != nil {
		return "", fmt.Errorf("guest sources: %w", err)
	}
	tc, err := gobuild.Builder{Go: b.Go}.Toolchain(ctx)
	if err != nil {
		return "", fmt.Errorf("building the guest binary: %w (or set CRASHRIG_GUEST to a prebuilt guest)", err)
	}
	key := sha256.Sum256([]byte(src + "\x00" + tc.Version))
	out := filepath.Join(b.CacheDir, "guest-"+hex.EncodeToString(key[:])[:24])
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	b.logf("building the guest binary with %s (once per crashrig and Go version)", tc.Version)
	if err := b.build(ctx, tc, out); err != nil {
		return "", err
	}
	return out, nil
}

// build writes the sources to a scratch module and builds the guest there.
func (b Builder) build(ctx context.Context, tc gobuild.Toolchain, out string) error {
	dir, err := os.MkdirTemp("", "crashrig-guest-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	err = fs.WalkDir(reproducer.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !buildable(p) {
			return err
		}
		data, err := reproducer.Source.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, "reproducer", p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("unpacking guest sources: %w", err)
	}
	gomod := "module github.com/crashrig/crashrig\n\ngo 1.22\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(b.CacheDir, 0o700); err != nil {
		return fmt.Errorf("guest cache: %w", err)
	}
	err = atomicfile.Produce(out, 0o700, func(tmp string) error {
		return gobuild.Compile(ctx, tc, dir, tmp, []string{"GOWORK=off", "GOFLAGS=-mod=mod"}, "./reproducer/guest")
	})
	if err != nil {
		return fmt.Errorf("building the guest binary: %w", err)
	}
	return nil
}
