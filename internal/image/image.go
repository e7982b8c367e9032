// Package image decides what goes into a guest image for a run: the guest
// binary as /init (and, under their names, /bin/true and the built-in
// reproducers), the user's reproducer, and files the user adds. It checks
// the inputs (a reproducer must be a static x86-64 ELF) and hands package
// initramfs a Spec.
package image

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/reproducer/builtin"
)

// A Repro is the reproducer of a run: a built-in, or a program from the
// host.
type Repro struct {
	Builtin string   // a name from builtin.List, or ""
	Path    string   // host path of a static ELF, when not a built-in
	Args    []string // its arguments
}

// Name is how reports call the reproducer.
func (r Repro) Name() string {
	if r.Builtin != "" {
		return r.Builtin
	}
	return filepath.Base(r.Path)
}

// GuestPath is what the guest init runs: a built-in's name or the
// program's path inside the image.
func (r Repro) GuestPath() string {
	if r.Builtin != "" {
		return r.Builtin
	}
	return "/repro/" + filepath.Base(r.Path)
}

// ErrInput marks errors in what the user gave (a missing or unsuitable
// file), as opposed to crashrig failing.
var ErrInput = errors.New("bad input")

func inputErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, a...)...)
}

// ResolveRepro interprets the value of -r: a built-in name, or a path to a
// static ELF (names with a slash, or existing files, are paths).
func ResolveRepro(arg string, args []string) (Repro, error) {
	if arg == "" {
		return Repro{}, inputErr("no reproducer given (-r NAME or -r ./program; `crashrig reproducers` lists the built-ins)")
	}
	if _, ok := builtin.Lookup(arg); ok && !strings.Contains(arg, "/") {
		return Repro{Builtin: arg, Args: args}, nil
	}
	if _, err := os.Stat(arg); err != nil {
		if !strings.Contains(arg, "/") {
			return Repro{}, inputErr("reproducer %q: no such built-in or file (built-ins: %s)", arg, builtinNames())
		}
		return Repro{}, inputErr("reproducer %s: %v", arg, errors.Unwrap(err))
	}
	if err := CheckStatic(arg); err != nil {
		return Repro{}, err
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return Repro{}, err
	}
	return Repro{Path: abs, Args: args}, nil
}

func builtinNames() string {
	var n []string
	for _, b := range builtin.List {
		n = append(n, b.Name)
	}
	return strings.Join(n, ", ")
}

// CheckStatic returns an input error unless path is a statically linked
// x86-64 ELF executable, which is all a minimal image can run.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return inputErr("reproducer %s: not an ELF executable (%v); a script needs a base with a shell", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return inputErr("reproducer %s: built for %v, the guest is x86-64 (GOARCH=amd64)", path, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return inputErr("reproducer %s: ELF type %v is not an executable", path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		interp := make([]byte, p.Filesz)
		p.ReadAt(interp, 0)
		return inputErr("reproducer %s is dynamically linked (interpreter %s), and the image has no libraries: build it static (Go: CGO_ENABLED=0; C: -static)",
			path, strings.TrimRight(string(interp), "\x00"))
	}
	return nil
}

// Options describe an image.
type Options struct {
	Guest       string // path of the guest binary
	Repro       Repro
	Compression string // "" = gzip
}

// Spec returns the initramfs Spec for o.
func Spec(o Options) (initramfs.Spec, error) {
	files := []initramfs.File{
		{Path: "/init", Src: o.Guest, Mode: 0o755},
		{Path: "/bin/true", Link: "/init"},
	}
	for _, b := range builtin.List {
		files = append(files, initramfs.File{Path: "/bin/" + b.Name, Link: "/init"})
	}
	if o.Repro.Path != "" {
		files = append(files, initramfs.File{Path: o.Repro.GuestPath(), Src: o.Repro.Path, Mode: 0o755})
	}
	return initramfs.Spec{Files: files, Compression: o.Compression}, nil
}

// SeedInit is the init script of the seed story's setup, in our words: it
// prints "Starting test now...", runs the reproducer, prints its exit
// status and the whole seconds it took, and powers off. Images built with
// it need a busybox base.
func SeedInit(command string) string {
	return `#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "Starting test now..."
start=$(date +%s)
` + command + `
ret=$?
echo "Test exited with status $ret after $(( $(date +%s) - start )) seconds"
poweroff -f
`
}

// BusyboxFiles returns the files of a busybox base: the static binary
// (checked to be static) as /bin/busybox and a link per applet.
func BusyboxFiles(busybox string) ([]initramfs.File, error) {
	if err := CheckStatic(busybox); err != nil {
		return nil, fmt.Errorf("busybox base: %w (Debian: apt-get install busybox-static)", err)
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox base: %s --list: %v", busybox, err)
	}
	files := []initramfs.File{{Path: "/bin/busybox", Src: busybox, Mode: 0o755}}
	for _, a := range strings.Fields(string(out)) {
		if a == "busybox" || a == "init" {
			continue // /init is the image's own
		}
		files = append(files, initramfs.File{Path: "/bin/" + a, Link: "busybox"})
	}
	return files, nil
}
