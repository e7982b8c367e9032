// Package guestbin produces crashrig's static guest binary (the /init of
// every image and the built-in reproducers) from the sources embedded in
// package reproducer.
//
// The binary is built with the host's Go toolchain on first use
// (CGO_ENABLED=0, GOOS=linux, GOARCH=amd64, GOAMD64=v1, -trimpath, stripped)
// and kept in a cache keyed by the hash of the sources and the toolchain's
// version, so later runs pay only for that hash. The sources are standard
// library only: no module download is ever needed.
//
// Standalone builds one built-in reproducer as a program of its own with
// another toolchain (crashrig's --go), so that only the reproducer runs on
// that toolchain's runtime.
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
	"github.com/crashrig/crashrig/reproducer/builtin"
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
	return b.buildIn(ctx, tc, out, "the guest binary", "./reproducer/guest", map[string][]byte{})
}

// buildIn unpacks the sources, and extra files (module path -> content),
// into a scratch module and builds pkg there into out; what names the
// program in errors.
func (b Builder) buildIn(ctx context.Context, tc gobuild.Toolchain, out, what, pkg string, extra map[string][]byte) error {
	dir, err := os.MkdirTemp("", "crashrig-guest-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	write := func(p string, data []byte) error {
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	}
	err = fs.WalkDir(reproducer.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !buildable(p) {
			return err
		}
		data, err := reproducer.Source.ReadFile(p)
		if err != nil {
			return err
		}
		return write("reproducer/"+p, data)
	})
	if err != nil {
		return fmt.Errorf("unpacking guest sources: %w", err)
	}
	extra["go.mod"] = []byte("module github.com/crashrig/crashrig\n\ngo 1.22\n")
	for p, data := range extra {
		if err := write(p, data); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(b.CacheDir, 0o700); err != nil {
		return fmt.Errorf("guest cache: %w", err)
	}
	err = atomicfile.Produce(out, 0o700, func(tmp string) error {
		return gobuild.Compile(ctx, tc, dir, tmp, []string{"GOWORK=off", "GOFLAGS=-mod=mod"}, pkg)
	})
	if err != nil {
		return fmt.Errorf("building %s: %w", what, err)
	}
	return nil
}

// Standalone returns the built-in reproducer name built as a program of its
// own, with b.Go's toolchain: its package (and the guest packages it
// imports) from the embedded sources, and a generated main that calls its
// Main with the program's arguments and exits with its status. The guest
// binary is not involved, so only the reproducer runs on that toolchain's
// runtime. Programs are cached by the sources' hash, the built-in's name and
// the toolchain: version, GOROOT path, GOFLAGS and GOEXPERIMENT, and the
// content of GOROOT/src/runtime (a patched copy of a toolchain reports the
// original's version).
func (b Builder) Standalone(ctx context.Context, name string) (gobuild.Binary, error) {
	if _, ok := builtin.Lookup(name); !ok {
		return gobuild.Binary{}, fmt.Errorf("no built-in reproducer %q", name)
	}
	if _, err := fs.Stat(reproducer.Source, name); err != nil {
		return gobuild.Binary{}, fmt.Errorf("built-in %s: no package reproducer/%s in the embedded sources", name, name)
	}
	src, err := sourceHash()
	if err != nil {
		return gobuild.Binary{}, fmt.Errorf("guest sources: %w", err)
	}
	tc, err := gobuild.Builder{Go: b.Go}.Toolchain(ctx)
	if err != nil {
		return gobuild.Binary{}, err
	}
	rt, err := runtimeHash(tc.GOROOT)
	if err != nil {
		return gobuild.Binary{}, fmt.Errorf("%w: %s: %v", gobuild.ErrToolchain, tc.Go, err)
	}
	key := sha256.Sum256([]byte(strings.Join([]string{"standalone-1", src, name, tc.Version, tc.GOROOT, tc.Flags, rt}, "\x00")))
	out := filepath.Join(b.CacheDir, name+"-"+hex.EncodeToString(key[:])[:24])
	if _, err := os.Stat(out); err == nil {
		return gobuild.Binary{Path: out, Toolchain: tc, Cached: true}, nil
	}
	b.logf("building built-in %s as its own program with %s (%s; cached for next time)", name, tc.Version, tc.GOROOT)
	err = b.buildIn(ctx, tc, out, "built-in "+name, "./cmd/"+name, map[string][]byte{
		"cmd/" + name + "/main.go": StandaloneMain(name),
	})
	if err != nil {
		return gobuild.Binary{}, err
	}
	return gobuild.Binary{Path: out, Toolchain: tc}, nil
}

// StandaloneMain is the main package of a standalone built-in.
func StandaloneMain(name string) []byte {
	return []byte(`// Command ` + name + ` is crashrig's built-in reproducer ` + name + ` as a program of its own.
package main

import (
	"os"

	repro "github.com/crashrig/crashrig/reproducer/` + name + `"
)

func main() { os.Exit(repro.Main(os.Args[1:])) }
`)
}

// runtimeHash hashes the files of a toolchain's runtime package.
func runtimeHash(goroot string) (string, error) {
	dir := filepath.Join(goroot, "src", "runtime")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range ents {
		if e.IsDir() || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
