package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/internal/gobuild"
	"github.com/crashrig/crashrig/internal/guestbin"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/uroot"
	"github.com/crashrig/crashrig/internal/xdg"
	"github.com/crashrig/crashrig/reproducer/builtin"
)

// Bases an image can start from.
const (
	BaseMinimal = "minimal" // the guest init and the reproducer only
	BaseBusybox = "busybox" // plus a static busybox and its applet links
	BaseURoot   = "u-root"  // plus u-root's Go userland (gosh and core commands)
)

// Bases lists the bases, default first.
var Bases = []string{BaseMinimal, BaseBusybox, BaseURoot}

// InitSeed names the seed story's init script (SeedInit).
const InitSeed = "seed"

// GuestName is the guest binary's path when /init is a script.
const GuestName = "/bin/crashrig-guest"

// Options describe an image.
type Options struct {
	Guest       string // path of the guest binary
	Repro       repro.Program
	Compression string // "" = gzip
	Base        string // one of Bases ("" = minimal)
	Busybox     string // static busybox for the busybox base ("" = busybox on PATH)
	Add         []Add  // host files and directories to copy in
	InitScript  string // "" (the guest binary is /init) or "seed" (SeedInit is)
	Go          string // go command for Go reproducers, standalone built-ins and the u-root base ("" = go on PATH)
	CacheDir    string // built Go reproducers and u-root bases ("" = xdg.CacheDir())
	Logf        func(format string, a ...any)
}

func (o Options) base() string {
	if o.Base == "" {
		return BaseMinimal
	}
	return o.Base
}

// HasShell reports whether the image has a /bin/sh.
func (o Options) HasShell() bool { return o.base() != BaseMinimal }

// Validate checks what can be checked without building anything: the
// base and init script names, that scripts have a shell, the added files.
func (o Options) Validate() error {
	switch o.base() {
	case BaseMinimal, BaseBusybox, BaseURoot:
	default:
		return inputErr("--base %q: want %s", o.Base, strings.Join(Bases, ", "))
	}
	switch o.InitScript {
	case "", InitSeed:
	default:
		return inputErr("--init-script %q: the only one is %q (the seed story's init.sh)", o.InitScript, InitSeed)
	}
	if o.Repro.Kind() == repro.KindScript && !o.HasShell() {
		return inputErr("reproducer %s is not an ELF executable but a script: it needs a base with a shell (--base busybox or --base u-root)", o.Repro.Path)
	}
	if o.InitScript == InitSeed && !o.HasShell() {
		return inputErr("--init-script seed is a shell script: it needs --base busybox (or u-root)")
	}
	for _, a := range o.Add {
		if err := a.check(); err != nil {
			return err
		}
	}
	return nil
}

// Spec returns the initramfs Spec for o. It may build into caches: the
// Go reproducer (package gobuild) and the u-root base (package uroot).
func Spec(ctx context.Context, o Options) (initramfs.Spec, error) {
	if err := o.Validate(); err != nil {
		return initramfs.Spec{}, err
	}
	if o.CacheDir == "" {
		o.CacheDir = xdg.CacheDir()
	}
	base, err := o.baseFiles(ctx)
	if err != nil {
		return initramfs.Spec{}, err
	}
	own, err := o.ownFiles(ctx)
	if err != nil {
		return initramfs.Spec{}, err
	}
	added, err := addFiles(o.Add)
	if err != nil {
		return initramfs.Spec{}, err
	}
	files, err := merge(base, own, added)
	if err != nil {
		return initramfs.Spec{}, err
	}
	return initramfs.Spec{Files: files, Compression: o.Compression}, nil
}

func (o Options) baseFiles(ctx context.Context) ([]initramfs.File, error) {
	switch o.base() {
	case BaseBusybox:
		bb := o.Busybox
		if bb == "" {
			bb = "/bin/busybox"
			if p, err := exec.LookPath("busybox"); err == nil {
				bb = p
			}
		}
		return BusyboxFiles(bb)
	case BaseURoot:
		files, err := uroot.Builder{Go: o.Go, CacheDir: filepath.Join(o.CacheDir, "uroot"), Logf: o.Logf}.Files(ctx)
		if errors.Is(err, gobuild.ErrToolchain) {
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		return files, err
	}
	return nil, nil
}

// ownFiles are crashrig's files: the guest binary (as /init, or beside the
// seed script), its built-in links, and the reproducer.
func (o Options) ownFiles(ctx context.Context) ([]initramfs.File, error) {
	guest := "/init"
	var files []initramfs.File
	if o.InitScript == InitSeed {
		guest = GuestName
		cmd := seedCommand(o.Repro)
		files = append(files, initramfs.File{Path: "/init", Data: []byte(SeedInit(cmd)), Mode: 0o755})
	}
	files = append(files, initramfs.File{Path: guest, Src: o.Guest, Mode: 0o755},
		initramfs.File{Path: "/bin/true", Link: guest})
	for _, b := range builtin.List {
		if !b.Standalone {
			files = append(files, initramfs.File{Path: "/bin/" + b.Name, Link: guest})
		}
	}
	src := o.Repro.Path
	if o.Repro.Standalone {
		bin, err := guestbin.Builder{Go: o.Go, CacheDir: filepath.Join(o.CacheDir, "repro"), Logf: o.Logf}.Standalone(ctx, o.Repro.Builtin)
		if errors.Is(err, gobuild.ErrToolchain) {
			return nil, fmt.Errorf("%w: reproducer %s: %w", ErrInput, o.Repro.Name(), err)
		} else if err != nil {
			return nil, err
		}
		if bin.Cached && o.Logf != nil {
			o.Logf("reproducer %s: built by %s (%s, cached)", o.Repro.Name(), bin.Toolchain.Version, bin.Toolchain.GOROOT)
		}
		src = bin.Path
	}
	if o.Repro.Kind() == repro.KindGo {
		bin, err := gobuild.Builder{Go: o.Go, CacheDir: filepath.Join(o.CacheDir, "repro"), Logf: o.Logf}.Build(ctx, o.Repro.Go)
		if errors.Is(err, gobuild.ErrToolchain) || errors.Is(err, gobuild.ErrPackage) {
			return nil, fmt.Errorf("%w: reproducer %s: %w", ErrInput, o.Repro.Name(), err)
		} else if err != nil {
			return nil, err
		}
		if err := repro.CheckStatic("reproducer", bin.Path); err != nil {
			return nil, err
		}
		if bin.Cached && o.Logf != nil {
			o.Logf("reproducer %s: built by %s (cached)", o.Repro.Name(), bin.Toolchain.Version)
		}
		src = bin.Path
	}
	if src != "" {
		files = append(files, initramfs.File{Path: o.Repro.GuestPath(), Src: src, Mode: 0o755})
	}
	return files, nil
}

// seedCommand is the line of the seed script that runs the reproducer.
func seedCommand(r repro.Program) string {
	argv := []string{r.GuestPath()}
	switch r.Kind() {
	case repro.KindBuiltin:
		if !r.Standalone {
			argv = []string{"/bin/" + r.Builtin}
		}
	case repro.KindScript:
		argv = []string{"/bin/sh", r.GuestPath()}
	}
	var q []string
	for _, a := range append(argv, r.Args...) {
		q = append(q, shellQuote(a))
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+,./:@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// merge joins the base's files, crashrig's own files (which replace base
// files of the same path, e.g. busybox's /bin/true) and the user's added
// files (which may replace base files but not crashrig's), sorted by path.
func merge(base, own, added []initramfs.File) ([]initramfs.File, error) {
	byPath := map[string]initramfs.File{}
	ownPath := map[string]bool{}
	for _, f := range base {
		byPath[filepath.Clean(f.Path)] = f
	}
	for _, f := range own {
		p := filepath.Clean(f.Path)
		byPath[p], ownPath[p] = f, true
	}
	for _, f := range added {
		p := filepath.Clean(f.Path)
		if ownPath[p] {
			return nil, inputErr("--add: %s is crashrig's own file in the image (the guest init or the reproducer)", p)
		}
		byPath[p] = f
	}
	files := make([]initramfs.File, 0, len(byPath))
	for _, f := range byPath {
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// SeedInit is the init script of the seed story's setup, in our words: it
// prints "Starting test now...", runs the reproducer, prints its exit
// status and the whole seconds it took, and powers off. Images built with
// it need a base with a shell (busybox, as in the story).
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
	if err := repro.CheckStatic("busybox", busybox); err != nil {
		return nil, fmt.Errorf("%w (the busybox base needs a static busybox; Debian: apt-get install busybox-static)", err)
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

// statErr describes a failed os.Stat of a user's file.
func statErr(what, p string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return inputErr("%s %s: no such file or directory", what, p)
	}
	return inputErr("%s %s: %v", what, p, err)
}
