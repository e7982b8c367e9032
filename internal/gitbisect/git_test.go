package gitbisect

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEnding(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  string
		want *ending
	}{
		{"going on", "Bisecting: 3 revisions left to test after this (roughly 2 steps)\n[5e9e4d63] change 3\n", nil},
		{"found", "eb81099776caa5c004077d991ab2f20906f4eeb6 is the first bad commit\ncommit eb81099776caa5c004077d991ab2f20906f4eeb6\n",
			&ending{first: "eb81099776caa5c004077d991ab2f20906f4eeb6"}},
		{"skipped left", "There are only 'skip'ped commits left to test.\nThe first bad commit could be any of:\n" +
			"47046aed84120131dc6734b3a8cb4ddb8625d0d9\neb81099776caa5c004077d991ab2f20906f4eeb6\nWe cannot bisect more!\n",
			&ending{could: []string{"47046aed84120131dc6734b3a8cb4ddb8625d0d9", "eb81099776caa5c004077d991ab2f20906f4eeb6"}}},
		{"not a sha", "xyz is the first bad commit\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, parseEnding(tc.out), cmp.AllowUnexported(ending{})); diff != "" {
				t.Errorf("parseEnding (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseEnding(f *testing.F) {
	f.Add("abcdef1 is the first bad commit\n")
	f.Add("The first bad commit could be any of:\nabcdef1\n")
	f.Fuzz(func(t *testing.T, out string) {
		e := parseEnding(out)
		if e == nil {
			return
		}
		if e.first != "" && !isSHA(e.first) {
			t.Fatalf("first %q is not a commit id", e.first)
		}
		for _, c := range e.could {
			if !isSHA(c) {
				t.Fatalf("candidate %q is not a commit id", c)
			}
		}
	})
}
