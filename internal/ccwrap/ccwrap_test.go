package ccwrap

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestObject(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-Wall", "-c", "-o", "arch/x86/entry/vdso/vclock_gettime.o", "arch/x86/entry/vdso/vclock_gettime.c"}, "arch/x86/entry/vdso/vclock_gettime.o"},
		{[]string{"-c", "-oinit/main.o", "init/main.c"}, "init/main.o"},
		{[]string{"-o", "init/main.o", "init/main.c"}, ""},                    // links, no -c
		{[]string{"-c", "-o", "arch/x86/entry/entry_64.o", "entry_64.S"}, ""}, // assembler
		{[]string{"-c", "-o", ".tmp_1234/tmp.o", "-x", "c", "/dev/null"}, ""}, // an option probe
		{[]string{"-c", "-o", "kernel/bounds.s", "kernel/bounds.c"}, ""},      // not an object
		{[]string{"--version"}, ""},
	} {
		if got := Object(tc.args); got != tc.want {
			t.Errorf("Object(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestPattern(t *testing.T) {
	for _, tc := range []struct {
		pat  string
		h    uint64
		want bool
	}{
		{"y", 0x1234, true},
		{"n", 0x1234, false},
		{"", 0x1234, false},
		{"0", 0b1010, true},
		{"1", 0b1010, false},
		{"10", 0b1010, true},
		{"110", 0b1010, false},
		{"010", 0b1010, true},
		{"11,010", 0b1010, true},
		{"1111111111111111111111111111111111111111111111111111111111111111", ^uint64(0), true},
	} {
		p, err := ParsePattern(tc.pat)
		if err != nil {
			t.Fatalf("%q: %v", tc.pat, err)
		}
		if got := p.Match(tc.h); got != tc.want {
			t.Errorf("%q.Match(%b) = %v, want %v", tc.pat, tc.h, got, tc.want)
		}
		if tc.pat != "" && p.String() != tc.pat {
			t.Errorf("ParsePattern(%q).String() = %q", tc.pat, p.String())
		}
	}
	for _, bad := range []string{"2", "1,", ",", "01x", strings.Repeat("1", 65)} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q): no error", bad)
		}
	}
}

func TestArgs(t *testing.T) {
	args := []string{"-O2", "-c", "-o", "a/b.o", "a/b.c"}
	all, _ := ParsePattern("y")
	got, obj, ok := Args(args, all, []string{"-fstack-check"})
	if diff := cmp.Diff(append(args, "-fstack-check"), got); diff != "" || !ok || obj != "a/b.o" {
		t.Errorf("Args with y (-want +got):\n%s (ok %v, obj %q)", diff, ok, obj)
	}
	none, _ := ParsePattern("n")
	if got, _, ok := Args(args, none, []string{"-fstack-check"}); ok || !cmp.Equal(got, args) {
		t.Errorf("Args with n = %q, %v", got, ok)
	}
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{"y", "n", "0", "101,11", "1,0"} {
		f.Add(s, uint64(12345))
	}
	f.Fuzz(func(t *testing.T, s string, h uint64) {
		p, err := ParsePattern(s)
		if err != nil {
			return
		}
		q, err := ParsePattern(p.String())
		if err != nil {
			t.Fatalf("%q → %q does not parse: %v", s, p.String(), err)
		}
		if p.Match(h) != q.Match(h) {
			t.Fatalf("%q and its round trip %q disagree on %x", s, p.String(), h)
		}
	})
}
