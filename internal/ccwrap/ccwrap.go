// Package ccwrap is the compiler wrapper of crashrig cc: it decides, from a hash of an
// object's output path, whether that object is compiled with extra flags, and records
// the choice. A bisection over objects (package objbisect) sets the pattern through the
// environment and builds the kernel with make CC='crashrig cc -- gcc'.
//
// Only compile steps of C files are touched (-c with an -o output ending in .o, not
// under a .tmp_ directory, which is where kbuild probes compiler options); everything
// else, --version included, passes through unchanged, so the build sees the same
// compiler.
package ccwrap

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
)

// Environment variables that configure the wrapper.
const (
	EnvFlags   = "CRASHRIG_CC_FLAGS"   // extra flags, separated by spaces
	EnvPattern = "CRASHRIG_CC_PATTERN" // which objects get them (see ParsePattern)
	EnvLog     = "CRASHRIG_CC_LOG"     // file that gets one line per object: hash, flags or plain, path
	// EnvReal names the real compiler when crashrig runs as a shim: a link named like
	// the compiler (gcc) in a directory put first in PATH, so the build's command lines,
	// and with them kbuild's idea of what is up to date, do not change.
	EnvReal = "CRASHRIG_CC_REAL"
)

// Hash is the 64-bit hash of an object path that patterns match: the first 8 bytes of
// its SHA-256, big-endian.
func Hash(path string) uint64 {
	h := sha256.Sum256([]byte(path))
	return binary.BigEndian.Uint64(h[:8])
}

// A Pattern selects objects by the low bits of their hash: an object matches when its
// hash ends in any of the suffixes. "y" matches every object, "n" or "" none.
type Pattern struct {
	all      bool
	suffixes []suffix
}

type suffix struct {
	bits uint64
	n    int // number of bits, 0..64
}

// ParsePattern reads "y", "n", "" or a comma-separated list of binary suffixes, low bit
// last: "01,1" matches hashes ending in binary 01 or in 1.
func ParsePattern(s string) (Pattern, error) {
	switch s {
	case "y":
		return Pattern{all: true}, nil
	case "n", "":
		return Pattern{}, nil
	}
	var p Pattern
	for _, f := range strings.Split(s, ",") {
		if len(f) == 0 || len(f) > 64 {
			return Pattern{}, fmt.Errorf("pattern %q: suffix %q: want 1 to 64 binary digits", s, f)
		}
		var x suffix
		for _, c := range f {
			if c != '0' && c != '1' {
				return Pattern{}, fmt.Errorf("pattern %q: suffix %q: want binary digits", s, f)
			}
			x.bits = x.bits<<1 | uint64(c-'0')
			x.n++
		}
		p.suffixes = append(p.suffixes, x)
	}
	return p, nil
}

// Match reports whether an object with hash h gets the extra flags.
func (p Pattern) Match(h uint64) bool {
	if p.all {
		return true
	}
	for _, s := range p.suffixes {
		mask := uint64(1)<<s.n - 1
		if s.n == 64 {
			mask = ^uint64(0)
		}
		if h&mask == s.bits {
			return true
		}
	}
	return false
}

// String is the pattern as ParsePattern reads it.
func (p Pattern) String() string {
	if p.all {
		return "y"
	}
	if len(p.suffixes) == 0 {
		return "n"
	}
	var parts []string
	for _, s := range p.suffixes {
		parts = append(parts, fmt.Sprintf("%0*b", s.n, s.bits))
	}
	return strings.Join(parts, ",")
}

// Object returns the object a compiler command line makes, or "" when it is not a
// compile step of a C file into an object the wrapper may touch.
func Object(args []string) string {
	compile, out, c := false, "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-c":
			compile = true
		case a == "-o" && i+1 < len(args):
			out = args[i+1]
			i++
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			out = a[2:]
		case !strings.HasPrefix(a, "-") && strings.HasSuffix(a, ".c"):
			c = true
		}
	}
	if !compile || !c || !strings.HasSuffix(out, ".o") || strings.Contains(out, ".tmp_") {
		return ""
	}
	return filepath.Clean(out)
}

// Args returns the compiler arguments for args under pattern p with extra flags, and
// whether the flags were added. The flags come last, so they override the build's own.
func Args(args []string, p Pattern, extra []string) ([]string, string, bool) {
	obj := Object(args)
	if obj == "" || len(extra) == 0 || !p.Match(Hash(obj)) {
		return args, obj, false
	}
	out := append(append([]string(nil), args...), extra...)
	return out, obj, true
}

// LogLine is the line the wrapper records for an object.
func LogLine(obj string, flagged bool) string {
	how := "plain"
	if flagged {
		how = "flags"
	}
	return fmt.Sprintf("%016x %s %s\n", Hash(obj), how, obj)
}
