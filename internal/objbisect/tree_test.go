package objbisect

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/verdict"
)

// symbolBooter "boots" a kernel file: it crashes at once when the file holds the symbol
// the flags add to the culprit object, and runs clean otherwise.
type symbolBooter struct{ kernel, symbol string }

func (s symbolBooter) BootControlled(context.Context, *run.Control) (*record.Run, error) {
	data, err := os.ReadFile(s.kernel)
	if err != nil {
		return nil, err
	}
	r := &record.Run{Wall: 1, Duration: 5}
	if bytes.Contains(data, []byte(s.symbol)) {
		r.Verdict, r.TimeToCrash, r.Title = verdict.Crash, 0.5, "culprit"
	} else {
		r.Verdict = verdict.Pass
		r.Iterations = []verdict.Iteration{{Verdict: verdict.Pass, Ran: 5}}
	}
	return r, nil
}

// TestBuilderRealMake runs the builder on a small tree built by a real make and gcc
// with crashrig (the real binary) as the compiler behind its link: the first build
// learns the objects from an empty build directory, each round recompiles exactly the
// objects whose flags change (the wrapper's log proves it), and the search names
// sub/b.o, the object whose -DMARK adds the symbol the fake boot crashes on. A second
// builder on the same directory starts from the record of flagged objects.
func TestBuilderRealMake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds crashrig and runs make")
	}
	tmp := t.TempDir()
	self := filepath.Join(tmp, "crashrig")
	if b, err := exec.Command("go", "build", "-o", self, "github.com/crashrig/crashrig/cmd/crashrig").CombinedOutput(); err != nil {
		t.Fatalf("building crashrig: %v\n%s", err, b)
	}
	src, err := filepath.Abs("testdata/tree")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out")
	os.MkdirAll(out, 0o700)
	os.WriteFile(filepath.Join(out, ".config"), []byte("CONFIG_X=y\n"), 0o600)
	cfg := bisect.Config{Limit: 5}
	opts := BuildOptions{Src: src, Out: out, Flags: "-DMARK", Make: []string{"make"}, Kernel: "bzImage", Self: self,
		Work: filepath.Join(tmp, "work"), Bisect: cfg, Logf: t.Logf,
		Prepare: func(_ context.Context, k string) (Booter, error) { return symbolBooter{k, "marked_b"}, nil }}
	b, cands, err := NewBuilder(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.o", "sub/b.o", "sub/c.o"}; !slices.Equal(cands, want) {
		t.Fatalf("candidates %q, want %q", cands, want)
	}
	res, err := bisect.Minimal(context.Background(), cfg, cands, b)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Exact || !slices.Equal(res.Culprits, []string{"sub/b.o"}) {
		t.Fatalf("culprits %q (%s), want sub/b.o", res.Culprits, res.Reason)
	}
	t.Logf("%d builds, %d steps", b.Builds(), len(res.Steps))
	// The wrapper's logs: every build compiled only what changed, with the right flags.
	logs, _ := filepath.Glob(filepath.Join(opts.Work, "builds", "*.cc.log"))
	if len(logs) != b.Builds() {
		t.Errorf("%d wrapper logs for %d builds", len(logs), b.Builds())
	}
	first, _ := readCCLog(logs[0])
	if len(first) != 3 || first["a.o"] || first["sub/b.o"] {
		t.Errorf("first build compiled %v, want all three plain", first)
	}
	// A new search in the same directory deletes what the last one left flagged, and
	// leaves out an object a stale .cmd file names but the build does not make.
	record, _ := os.ReadFile(filepath.Join(out, ".crashrig-flagged"))
	os.WriteFile(filepath.Join(out, "sub", ".gone.o.cmd"), []byte("cmd_sub/gone.o := gcc -D__KERNEL__ -c -o sub/gone.o "+src+
		"/sub/gone.c\nsource_gone.o := "+src+"/sub/gone.c\n"), 0o600)
	// A host program's object (objtool's, say) is no candidate: no -D__KERNEL__.
	os.MkdirAll(filepath.Join(out, "tools"), 0o700)
	os.WriteFile(filepath.Join(out, "tools", ".host.o.cmd"), []byte("cmd_tools/host.o := gcc -c -o tools/host.o host.c\nsource_host.o := host.c\n"), 0o600)
	opts.Work = filepath.Join(tmp, "work2")
	b2, cands2, err := NewBuilder(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.o", "sub/b.o", "sub/c.o"}; !slices.Equal(cands2, want) {
		t.Errorf("candidates with a stale .cmd file %q, want %q", cands2, want)
	}
	again, _ := readCCLog(filepath.Join(opts.Work, "builds", "001.cc.log"))
	for _, obj := range bytes.Fields(record) {
		if flagged, ok := again[string(obj)]; !ok || flagged {
			t.Errorf("%s, left flagged by the first search, was not rebuilt plain (log %v)", obj, again)
		}
	}
	_ = b2

	// An object that does not compile with the flags stays plain: the bad end is the
	// flags on every candidate that builds with them.
	opts.Work, opts.Flags = filepath.Join(tmp, "work3"), "-DBREAK"
	b3, cands3, err := NewBuilder(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.o", "sub/b.o"}; !slices.Equal(cands3, want) || !slices.Equal(b3.Broken, []string{"sub/c.o"}) {
		t.Errorf("with -DBREAK: candidates %q, broken %q; want %q and sub/c.o", cands3, b3.Broken, want)
	}
	// When no candidate compiles with the flags, the search has no bad end: the
	// user's input, said as such.
	opts.Work, opts.Flags = filepath.Join(tmp, "work4"), "-DBREAKALL"
	if _, _, err := NewBuilder(context.Background(), opts); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "no candidate builds with") {
		t.Errorf("flags that break every object: %v, want an input error saying so", err)
	}
}

// TestLinkError reads the objects a failed link names.
func TestLinkError(t *testing.T) {
	log := "  LD      vmlinux.o\n" +
		"ld: mm/truncate.o: in function `folio_index':\n" +
		"truncate.c:(.text+0x30a): undefined reference to `__page_file_index'\n" +
		"x86_64-linux-gnu-ld.bfd: drivers/acpi/osl.o: in function `acpi_os_get_root_pointer':\n" +
		"ld: osl.c:(.init.text+0x306): undefined reference to `efi'\n" +
		"make[2]: *** [scripts/Makefile.vmlinux:34: vmlinux] Error 1\n"
	var got []string
	for _, m := range linkError.FindAllStringSubmatch(log, -1) {
		got = append(got, m[1])
	}
	if want := []string{"mm/truncate.o", "drivers/acpi/osl.o"}; !slices.Equal(got, want) {
		t.Errorf("objects %q, want %q", got, want)
	}
}
