package kconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const good = `#
# Automatically generated file; DO NOT EDIT.
#
CONFIG_64BIT=y
CONFIG_SMP=y
# CONFIG_MAGIC_SYSRQ is not set
CONFIG_NR_CPUS=8
CONFIG_CMDLINE=""
`

const bad = `CONFIG_64BIT=y
CONFIG_SMP=y
CONFIG_MAGIC_SYSRQ=y
CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE=0x1
CONFIG_NR_CPUS=64
CONFIG_CMDLINE=""
`

func TestDiffApply(t *testing.T) {
	g, err := Parse(strings.NewReader(good), "good")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(strings.NewReader(bad), "bad")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"MAGIC_SYSRQ", "MAGIC_SYSRQ_DEFAULT_ENABLE", "NR_CPUS"}, Diff(g, b)); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	c := Apply(g, b, []string{"MAGIC_SYSRQ", "MAGIC_SYSRQ_DEFAULT_ENABLE"})
	var out strings.Builder
	c.WriteTo(&out)
	want := "CONFIG_64BIT=y\nCONFIG_SMP=y\nCONFIG_MAGIC_SYSRQ=y\nCONFIG_NR_CPUS=8\nCONFIG_CMDLINE=\"\"\nCONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE=0x1\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("Apply (-want +got):\n%s", diff)
	}
	if g.Get("MAGIC_SYSRQ") != "n" || g.Get("ABSENT") != "n" {
		t.Errorf("unset options: %q %q, want n", g.Get("MAGIC_SYSRQ"), g.Get("ABSENT"))
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CONFIG_A=y\nnonsense\n", "x.config:2: want CONFIG_NAME=value"},
		{"CONFIG_A=\n", "x.config:1: CONFIG_A has no value"},
		{"FOO=y\n", "x.config:1: want CONFIG_NAME=value"},
		{"# just a comment\n", "x.config:1: no CONFIG_ option"},
		{"\x00\x01binary", "x.config:1: want CONFIG_NAME=value"},
	} {
		_, err := Parse(strings.NewReader(tc.in), "x.config")
		var se *SyntaxError
		if err == nil || !errors.As(err, &se) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q…", tc.in, err, tc.want)
		}
	}
}

// FuzzParse checks that whatever parses survives a write and a read unchanged.
func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add(bad)
	f.Add("CONFIG_X=\"a=b\"\n# CONFIG_Y is not set\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		var out strings.Builder
		c.WriteTo(&out)
		d, err := Parse(strings.NewReader(out.String()), "again")
		if err != nil {
			t.Fatalf("written config does not parse: %v\n%s", err, out.String())
		}
		if diff := Diff(c, d); len(diff) != 0 {
			t.Fatalf("round trip changed %v", diff)
		}
	})
}
