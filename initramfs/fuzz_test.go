package initramfs

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// FuzzRoundTrip writes an image of fuzzed files and reads it back: every file the Spec
// names comes back once with its content, whatever the names and bytes, and writing the
// same Spec twice gives the same archive.
func FuzzRoundTrip(f *testing.F) {
	f.Add("init", []byte("#!/bin/sh\n"), "bin/sh", "busybox")
	f.Add("a/b/c", []byte{0, 1, 2}, "d", "../x")
	f.Fuzz(func(t *testing.T, name string, data []byte, linkName, target string) {
		clean := func(s string) string { // a guest path: one slash-separated name under /
			s = strings.Trim(strings.ReplaceAll(s, "\x00", ""), "/")
			if s == "" || s == "." || s == ".." || strings.Contains(s, "//") ||
				strings.Contains("/"+s+"/", "/./") || strings.Contains("/"+s+"/", "/../") {
				return ""
			}
			return "/" + s
		}
		p, l := clean(name), clean(linkName)
		if p == "" || l == "" || p == l || strings.HasPrefix(l, p+"/") || strings.HasPrefix(p, l+"/") || target == "" ||
			strings.Contains(target, "\x00") {
			t.Skip()
		}
		spec := Spec{Compression: "none", Files: []File{
			{Path: p, Data: data},
			{Path: l, Link: target},
		}}
		var a, b bytes.Buffer
		errA, errB := Write(&a, spec), Write(&b, spec)
		if (errA == nil) != (errB == nil) || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("two writes of one Spec differ (%v, %v)", errA, errB)
		}
		if errA != nil {
			return // refused with an error: fine, as long as it is the same both times
		}
		recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(a.Bytes())))
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		seen := map[string]int{}
		for _, r := range recs {
			seen[r.Name]++
			switch "/" + r.Name {
			case p:
				buf := make([]byte, r.FileSize)
				if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
					t.Fatalf("reading %s: %v", p, err)
				}
				if !bytes.Equal(buf, data) {
					t.Fatalf("%s: content differs", p)
				}
			case l:
				buf := make([]byte, r.FileSize)
				r.ReadAt(buf, 0)
				if string(buf) != target {
					t.Fatalf("%s: link to %q, want %q", l, buf, target)
				}
			}
		}
		for name, n := range seen {
			if n > 1 {
				t.Fatalf("%s written %d times", name, n)
			}
		}
		if seen[p[1:]] != 1 || seen[l[1:]] != 1 {
			t.Fatalf("files missing: %v", seen)
		}
	})
}
