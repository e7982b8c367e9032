package initramfs

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/u-root/u-root/pkg/cpio"
)

func testSpec(t *testing.T) Spec {
	dir := t.TempDir()
	bin := filepath.Join(dir, "guest")
	if err := os.WriteFile(bin, bytes.Repeat([]byte("\x7fELF guest "), 1000), 0o755); err != nil {
		t.Fatal(err)
	}
	return Spec{Files: []File{
		{Path: "/init", Src: bin, Mode: 0o755},
		{Path: "/bin/true", Link: "/init"},
		{Path: "/repro/data/x.txt", Data: []byte("hello\n")},
		{Path: "/var/empty", Dir: true, Mode: 0o700},
	}}
}

// readBack lists an archive as "name mode rdev size" lines.
func readBack(t *testing.T, b []byte, gz bool) map[string]string {
	t.Helper()
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r.Name] = strings.TrimSpace(strings.Join([]string{
			"mode=" + octal(r.Mode), "dev=" + itoa(r.Rmajor) + "," + itoa(r.Rminor), "size=" + itoa(r.FileSize),
			"mtime=" + itoa(r.MTime), "uid=" + itoa(r.UID)}, " "))
	}
	return got
}

func octal(v uint64) string { return strings.TrimLeft(strconvFormat(v, 8), " ") }
func itoa(v uint64) string  { return strconvFormat(v, 10) }

func TestContents(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, testSpec(t)); err != nil {
		t.Fatal(err)
	}
	got := readBack(t, buf.Bytes(), true)
	want := map[string]string{
		".":                "mode=40755 dev=0,0 size=0 mtime=0 uid=0",
		"bin":              "mode=40755 dev=0,0 size=0 mtime=0 uid=0",
		"bin/true":         "mode=120777 dev=0,0 size=5 mtime=0 uid=0",
		"dev":              "mode=40755 dev=0,0 size=0 mtime=0 uid=0",
		"dev/console":      "mode=20600 dev=5,1 size=0 mtime=0 uid=0",
		"dev/null":         "mode=20666 dev=1,3 size=0 mtime=0 uid=0",
		"dev/ttyS0":        "mode=20660 dev=4,64 size=0 mtime=0 uid=0",
		"etc":              "mode=40755 dev=0,0 size=0 mtime=0 uid=0",
		"init":             "mode=100755 dev=0,0 size=11000 mtime=0 uid=0",
		"proc":             "mode=40555 dev=0,0 size=0 mtime=0 uid=0",
		"repro":            "mode=40755 dev=0,0 size=0 mtime=0 uid=0",
		"repro/data":       "mode=40755 dev=0,0 size=0 mtime=0 uid=0",
		"repro/data/x.txt": "mode=100644 dev=0,0 size=6 mtime=0 uid=0",
		"root":             "mode=40700 dev=0,0 size=0 mtime=0 uid=0",
		"sys":              "mode=40555 dev=0,0 size=0 mtime=0 uid=0",
		"tmp":              "mode=41777 dev=0,0 size=0 mtime=0 uid=0",
		"var":              "mode=40755 dev=0,0 size=0 mtime=0 uid=0",
		"var/empty":        "mode=40700 dev=0,0 size=0 mtime=0 uid=0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("archive contents (-want +got):\n%s", diff)
	}
}

func TestReproducible(t *testing.T) {
	s := testSpec(t)
	var a, b bytes.Buffer
	if err := Write(&a, s); err != nil {
		t.Fatal(err)
	}
	// Reordering the inputs and touching the source must not matter.
	s.Files[0], s.Files[2] = s.Files[2], s.Files[0]
	os.Chtimes(s.Files[2].Src, time.Now(), time.Now().Add(-time.Hour))
	if err := Write(&b, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same inputs gave different archives")
	}
	h1, _ := s.Hash()
	s.Files[1].Data = []byte("other")
	h2, _ := s.Hash()
	if h1 == h2 {
		t.Fatal("different content, same hash")
	}
}

func TestCacheAndErrors(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	s := testSpec(t)
	p1, _, err := c.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(p1)
	p2, _, err := c.Build(s)
	if err != nil || p1 != p2 {
		t.Fatalf("second build: %v %v", p2, err)
	}
	st2, _ := os.Stat(p2)
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("cached image was rewritten")
	}
	bad := []Spec{
		{Files: []File{{Path: "/x", Src: "/nonexistent/file"}}},
		{Files: []File{{Path: "relative", Data: nil}}},
		{Files: []File{{Path: "/a", Data: nil}, {Path: "/a/", Data: nil}}},
		{Compression: "lzma"},
	}
	out := filepath.Join(t.TempDir(), "out.cpio.gz")
	for _, s := range bad {
		if err := WriteFile(out, s); err == nil {
			t.Errorf("WriteFile(%+v) succeeded", s)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("a failed WriteFile left %s behind", out)
		}
		ents, _ := os.ReadDir(filepath.Dir(out))
		if len(ents) != 0 {
			t.Fatalf("a failed WriteFile left %v behind", ents)
		}
	}
}

// TestCpioLists checks the archive with the cpio tool users have.
func TestCpioLists(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed")
	}
	var buf bytes.Buffer
	s := testSpec(t)
	s.Compression = "none"
	if err := Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cpio", "-itv")
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itv: %v\n%s", err, out)
	}
	for _, want := range []string{"crw-------", "5,   1", "dev/console", "1,   3", "dev/null", "bin/true -> /init", "-rwxr-xr-x"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("cpio -itv output lacks %q:\n%s", want, out)
		}
	}
}

func BenchmarkCachedBuild(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "guest")
	os.WriteFile(bin, bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 2<<20/7), 0o755)
	s := Spec{Files: []File{{Path: "/init", Src: bin}}}
	c := Cache{Dir: dir}
	c.Build(s)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := c.Build(s); err != nil {
			b.Fatal(err)
		}
	}
}

func strconvFormat(v uint64, base int) string { return strconv.FormatUint(v, base) }
