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
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

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

func (b Builder) goCmd() string {
	if b.Go != "" {
		return b.Go
	}
	return "go"
}

func (b Builder) logf(format string, a ...any) {
	if b.Logf != nil {
		b.Logf(format, a...)
	}
}

// versions remembers each toolchain's version for the life of the
// process: a comparison prepares several variants, and each would
// otherwise start the go command again.
var versions sync.Map // go command -> []byte

func goVersion(ctx context.Context, goCmd string) ([]byte, error) {
	if v, ok := versions.Load(goCmd); ok {
		return v.([]byte), nil
	}
	v, err := exec.CommandContext(ctx, goCmd, "env", "GOVERSION").Output()
	if err == nil {
		versions.Store(goCmd, v)
	}
	return v, err
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
	ver, err := goVersion(ctx, b.goCmd())
	if err != nil {
		return "", fmt.Errorf("building the guest binary needs a Go toolchain: %s env GOVERSION: %v (install Go, or set CRASHRIG_GUEST to a prebuilt guest)", b.goCmd(), err)
	}
	key := sha256.Sum256([]byte(src + "\x00" + strings.TrimSpace(string(ver))))
	out := filepath.Join(b.CacheDir, "guest-"+hex.EncodeToString(key[:])[:24])
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	b.logf("building the guest binary with %s (once per crashrig and Go version)", strings.TrimSpace(string(ver)))
	if err := b.build(ctx, out); err != nil {
		return "", err
	}
	return out, nil
}

// build writes the sources to a scratch module and builds the guest there.
func (b Builder) build(ctx context.Context, out string) error {
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
	tmp := out + ".tmp" + fmt.Sprint(os.Getpid())
	cmd := exec.CommandContext(ctx, b.goCmd(), "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", tmp, "./reproducer/guest")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOAMD64=v1",
		"GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("building the guest binary: %v\n%s", err, msg)
	}
	return os.Rename(tmp, out)
}
