// Package repro is the host side of reproducer/: it resolves what a user
// names with -r into a Program the image can carry. A reproducer is a
// built-in name (reproducer/builtin lists them), a static x86-64 ELF, a Go
// main package (a directory or an import path), or a shell script (run
// through /bin/sh, so it needs a base with a shell). Errors caused by what the
// user gave wrap ErrInput.
package repro

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/crashrig/crashrig/reproducer/builtin"
)

// A Kind says what sort of program a reproducer is.
type Kind string

// The kinds of reproducer.
const (
	KindBuiltin Kind = "builtin" // part of crashrig's guest binary
	KindELF     Kind = "elf"     // a static x86-64 program from the host
	KindGo      Kind = "go"      // a Go main package, built for the guest
	KindScript  Kind = "script"  // a shell script, run through /bin/sh
)

// A Program is a reproducer as the user named it, resolved: what sort of
// program it is, where it is, and its arguments.
type Program struct {
	Builtin string   // a name from builtin.List, or ""
	Path    string   // absolute host path of a static ELF or a script
	Go      string   // a Go main package: absolute directory or import path
	Script  bool     // Path is a script
	Args    []string // its arguments

	// Standalone marks a built-in built as a program of its own by the
	// toolchain of --go (see WithGo) instead of running inside the guest
	// binary.
	Standalone bool
}

// WithGo applies --go to r: a built-in named together with a go command
// is built as a program of its own with that toolchain, so that only the
// reproducer runs on that Go's runtime while the guest /init stays built
// by the host's. Other kinds are unchanged (a Go package is always built
// with goCmd; ELF programs and scripts need no Go).
func (r Program) WithGo(goCmd string) Program {
	if r.Builtin != "" && goCmd != "" {
		r.Standalone = true
	}
	return r
}

// Kind says what r is.
func (r Program) Kind() Kind {
	switch {
	case r.Builtin != "":
		return KindBuiltin
	case r.Go != "":
		return KindGo
	case r.Script:
		return KindScript
	}
	return KindELF
}

// Name is how reports call the reproducer: the built-in's name, the file's
// base name, or the Go package's last path element.
func (r Program) Name() string {
	switch {
	case r.Builtin != "":
		return r.Builtin
	case r.Go != "":
		if filepath.IsAbs(r.Go) {
			return filepath.Base(r.Go)
		}
		return path.Base(r.Go)
	}
	return filepath.Base(r.Path)
}

// GuestPath is what the guest init runs: a built-in's name or the
// program's path inside the image (a standalone built-in's too).
func (r Program) GuestPath() string {
	if r.Builtin != "" && !r.Standalone {
		return r.Builtin
	}
	return "/repro/" + r.Name()
}

// ErrInput marks errors in what the user gave (a missing or unsuitable
// file), as opposed to crashrig failing.
var ErrInput = errors.New("bad input")

func inputErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, a...)...)
}

// Resolve interprets the value of -r: a built-in name; an existing
// file (a static ELF, or a script: a "#!" first line or a .sh name); a
// directory holding a Go main package; or a Go import path, resolved from
// the current directory as `go build` would.
func Resolve(arg string, args []string) (Program, error) {
	if arg == "" {
		return Program{}, inputErr("no reproducer given (-r NAME, -r ./program, -r ./script.sh or -r ./gopackage; `crashrig reproducers` lists the built-ins)")
	}
	if in, ok := builtin.Lookup(arg); ok && !strings.Contains(arg, "/") {
		return Program{Builtin: arg, Args: args, Standalone: in.Standalone}, nil
	}
	st, err := os.Stat(arg)
	if err != nil {
		switch {
		case isImportPath(arg):
			return Program{Go: arg, Args: args}, nil
		case !strings.Contains(arg, "/"):
			return Program{}, inputErr("reproducer %q: no such built-in or file (built-ins: %s)", arg, builtinNames())
		}
		return Program{}, inputErr("reproducer %s: %v", arg, errors.Unwrap(err))
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return Program{}, err
	}
	if st.IsDir() {
		if err := checkGoDir(arg); err != nil {
			return Program{}, err
		}
		return Program{Go: abs, Args: args}, nil
	}
	if isScript(arg) {
		return Program{Path: abs, Script: true, Args: args}, nil
	}
	if err := CheckStatic("reproducer", arg); err != nil {
		return Program{}, err
	}
	return Program{Path: abs, Args: args}, nil
}

// isImportPath reports whether arg reads as a Go import path that is not a
// file: a first element with a dot and more after it
// ("example.com/x/cmd/repro"), not ending like a script.
func isImportPath(arg string) bool {
	first, rest, _ := strings.Cut(arg, "/")
	return strings.Contains(first, ".") && rest != "" && !strings.HasPrefix(arg, ".") &&
		!strings.HasSuffix(arg, ".sh") && !strings.ContainsAny(arg, `\ `)
}

// checkGoDir refuses a directory without Go sources.
func checkGoDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return inputErr("reproducer %s: %v", dir, err)
	}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return nil
		}
	}
	return inputErr("reproducer %s is a directory without a Go package (no .go files): give a Go main package, a static program or a script", dir)
}

// isScript reports whether a file is a script: a "#!" line or a .sh name.
func isScript(p string) bool {
	if strings.HasSuffix(p, ".sh") {
		return true
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := f.Read(head)
	return bytes.Equal(head[:n], []byte("#!"))
}

func builtinNames() string {
	var n []string
	for _, b := range builtin.List {
		n = append(n, b.Name)
	}
	return strings.Join(n, ", ")
}

// CheckStatic returns an input error unless path is a statically linked
// x86-64 ELF executable, which is all a minimal image can run; what names the
// file in the message ("reproducer", "busybox").
func CheckStatic(what, path string) error {
	f, err := elf.Open(path)
	if err != nil {
		if what == "reproducer" {
			return inputErr("reproducer %s: not an ELF executable (%v), nor a script (no #! line); a Go package is given by its directory", path, err)
		}
		return inputErr("%s %s: not an ELF executable (%v)", what, path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return inputErr("%s %s: built for %v, the guest is x86-64 (GOARCH=amd64)", what, path, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return inputErr("%s %s: ELF type %v is not an executable", what, path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		interp := make([]byte, p.Filesz)
		p.ReadAt(interp, 0)
		return inputErr("%s %s is dynamically linked (interpreter %s), and the image has no libraries: build it static (Go: CGO_ENABLED=0; C: -static)",
			what, path, strings.TrimRight(string(interp), "\x00"))
	}
	return nil
}
