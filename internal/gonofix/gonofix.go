// Package gonofix makes a Go toolchain without the fix for Go issue 20427,
// as a positive control for vDSO stack probes: a runtime that calls the
// vDSO's clock_gettime on the goroutine's own small stack, as Go 1.9 did,
// so that a kernel whose vDSO probes the stack far below the stack pointer
// (the seed story, docs/vdso-stack-probe.md) corrupts a neighbouring
// goroutine's stack and crashes a Go program, while the stock toolchain
// (which switches to the system stack first) survives the same kernel.
//
// Toolchain copies the GOROOT of a go command into a cache directory and
// changes exactly two instructions: the conditional jump that skips the
// switch to g0 when the caller is not on a goroutine stack becomes
// unconditional, in runtime·nanotime1 (src/runtime/sys_linux_amd64.s) and
// in time·now (src/runtime/time_linux_amd64.s). Nothing is built: the go
// command's build cache is keyed by content, so the runtime of every
// program built with the copy is compiled from the changed files. The copy
// is keyed by the Go version and the hash of the original files, and it is
// reused on later calls. A toolchain whose files do not read as expected
// (another Go version, another layout) is refused, never half-patched.
//
// Only linux/amd64 programs are affected; the copy reports the same
// version as the original.
package gonofix

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrUnexpected marks a toolchain whose runtime files do not hold the
// expected instructions exactly once in each expected function.
var ErrUnexpected = errors.New("runtime sources are not as expected")

// A Patch is one change in one runtime assembly file: Old becomes New,
// and Old must appear exactly once in the function Func.
type Patch struct {
	File string // relative to GOROOT, slash-separated
	Func string // the function's TEXT line starts with this
	Old  string // one whole line, tabs included
	New  string
}

// Patches are the two changes, in the order they are applied.
var Patches = []Patch{
	{File: "src/runtime/sys_linux_amd64.s", Func: "TEXT runtime·nanotime1(SB)", Old: "\tJNE\tnoswitch", New: "\tJMP\tnoswitch"},
	{File: "src/runtime/time_linux_amd64.s", Func: "TEXT time·now<ABIInternal>(SB)", Old: "\tJNE\tnoswitch", New: "\tJMP\tnoswitch"},
}

// Apply returns src with p made, and the 1-based line number of the
// changed line. It fails unless p.Func's body (from its TEXT line to the
// next TEXT line) holds p.Old as a whole line exactly once.
func Apply(src []byte, p Patch) (out []byte, line int, err error) {
	lines := strings.SplitAfter(string(src), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, p.Func) {
			if start >= 0 {
				return nil, 0, fmt.Errorf("%w: %s: %q defined twice", ErrUnexpected, p.File, p.Func)
			}
			start = i
		}
	}
	if start < 0 {
		return nil, 0, fmt.Errorf("%w: %s: no %q", ErrUnexpected, p.File, p.Func)
	}
	found := -1
	for i := start + 1; i < len(lines) && !strings.HasPrefix(lines[i], "TEXT "); i++ {
		if strings.TrimRight(lines[i], "\r\n") != p.Old {
			continue
		}
		if found >= 0 {
			return nil, 0, fmt.Errorf("%w: %s: %q appears more than once in %s", ErrUnexpected, p.File, strings.TrimSpace(p.Old), p.Func)
		}
		found = i
	}
	if found < 0 {
		return nil, 0, fmt.Errorf("%w: %s: no %q in %s", ErrUnexpected, p.File, strings.TrimSpace(p.Old), p.Func)
	}
	lines[found] = p.New + lines[found][len(p.Old):]
	return []byte(strings.Join(lines, "")), found + 1, nil
}

// A Change is a Patch as made in one toolchain.
type Change struct {
	Patch
	Line     int    // 1-based line of the changed instruction
	Original []byte // the file before the change
	Patched  []byte // the file after it
}

// Changes reads the files of Patches under goroot and makes every patch
// in memory. The files are not modified.
func Changes(goroot string) ([]Change, error) {
	var cs []Change
	for _, p := range Patches {
		orig, err := os.ReadFile(filepath.Join(goroot, filepath.FromSlash(p.File)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s has no %s", ErrUnexpected, goroot, p.File)
		} else if err != nil {
			return nil, err
		}
		// Two patches of one file would apply to the first one's result.
		for _, c := range cs {
			if c.File == p.File {
				orig = c.Patched
			}
		}
		out, line, err := Apply(orig, p)
		if err != nil {
			return nil, err
		}
		cs = append(cs, Change{Patch: p, Line: line, Original: orig, Patched: out})
	}
	return cs, nil
}

// key names a toolchain's copy: its version and the hash of the files
// the patches change.
func key(version string, cs []Change) string {
	h := sha256.New()
	for _, c := range cs {
		fmt.Fprintf(h, "%s\x00%d\x00", c.File, len(c.Original))
		h.Write(c.Original)
	}
	v := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, strings.Fields(version + " unknown")[0])
	return v + "-nofix-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// doneFile, at the root of a finished copy, says what was changed.
const doneFile = "CRASHRIG-NOFIX"

// Toolchain returns the go command of a copy of goCmd's GOROOT with
// Patches made, under cacheDir, making the copy when the cache has none.
// goCmd is a path or a name on PATH ("" = "go").
func Toolchain(ctx context.Context, goCmd, cacheDir string) (patchedGo string, err error) {
	if goCmd == "" {
		goCmd = "go"
	}
	version, goroot, err := describe(ctx, goCmd)
	if err != nil {
		return "", err
	}
	cs, err := Changes(goroot)
	if err != nil {
		return "", fmt.Errorf("%s (%s, GOROOT %s): %w; the patch fits Go 1.26's runtime", goCmd, version, goroot, err)
	}
	dir := filepath.Join(cacheDir, key(version, cs))
	patchedGo = filepath.Join(dir, "bin", "go")
	if _, err := os.Stat(filepath.Join(dir, doneFile)); err == nil {
		return patchedGo, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("toolchain cache: %w", err)
	}
	tmp, err := os.MkdirTemp(cacheDir, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("toolchain cache: %w", err)
	}
	defer os.RemoveAll(tmp) // after a successful rename, nothing is left there
	if err := fill(ctx, goroot, tmp, version, cs); err != nil {
		return "", fmt.Errorf("copying %s to %s: %w (nothing left behind)", goroot, cacheDir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, doneFile)); serr == nil {
			return patchedGo, nil // made by another crashrig meanwhile
		}
		return "", fmt.Errorf("toolchain cache: %w", err)
	}
	return patchedGo, nil
}

// describe asks a go command for its version and GOROOT.
func describe(ctx context.Context, goCmd string) (version, goroot string, err error) {
	cmd := exec.CommandContext(ctx, goCmd, "env", "GOVERSION", "GOROOT")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("%s env: %v: %s", goCmd, err, strings.TrimSpace(stderr.String()))
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) != 2 || f[1] == "" {
		return "", "", fmt.Errorf("%s env GOVERSION GOROOT: unexpected output %q", goCmd, out)
	}
	return strings.TrimSpace(f[0]), strings.TrimSpace(f[1]), nil
}

// fill fills dir with a patched copy of goroot and checks that its go
// command sees dir as its GOROOT.
func fill(ctx context.Context, goroot, dir, version string, cs []Change) error {
	if err := copyTree(goroot, dir); err != nil {
		return err
	}
	var note strings.Builder
	fmt.Fprintf(&note, "A copy of %s (%s) without the fix for Go issue 20427:\nthe runtime calls the vDSO on the goroutine stack. Changed lines:\n", goroot, version)
	for _, c := range cs {
		p := filepath.Join(dir, filepath.FromSlash(c.File))
		if err := os.Remove(p); err != nil {
			return err
		}
		if err := os.WriteFile(p, c.Patched, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&note, "%s:%d: %s -> %s\n", c.File, c.Line, strings.TrimSpace(c.Old), strings.TrimSpace(c.New))
	}
	_, got, err := describe(ctx, filepath.Join(dir, "bin", "go"))
	if err != nil {
		return err
	}
	if filepath.Clean(got) != filepath.Clean(dir) {
		return fmt.Errorf("the copied go command takes %s as its GOROOT, not the copy %s", got, dir)
	}
	return os.WriteFile(filepath.Join(dir, doneFile), []byte(note.String()), 0o644)
}

// copyTree copies the tree at src into the existing directory dst:
// directories, regular files with their permission bits (made writable by
// the owner, so the copy can be removed) and symlinks as they are.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(to, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case info.Mode().IsRegular():
			return copyFile(p, to, info.Mode().Perm()|0o200)
		}
		return nil // devices, sockets: nothing a toolchain holds
	})
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
