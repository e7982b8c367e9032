package objbisect

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/testkernel"
)

// TestRealObjects is the seed story's object bisection on its own tree: with the probe
// flags on the vDSO directory's objects, the search must name
// arch/x86/entry/vdso/vclock_gettime.o alone, from real builds (crashrig as the compiler,
// in the seed build directory) and real boots of the vdsostack reproducer.
//
// The test command runs the same search as a stage of the reduced seed story
// (internal/story's TestRealStoryReduced); this one runs with CRASHRIG_SLOW_TESTS=1.
func TestRealObjects(t *testing.T) {
	if os.Getenv("CRASHRIG_SLOW_TESTS") != "1" {
		t.Skip("the story test runs this search in the test command; CRASHRIG_SLOW_TESTS=1 runs it alone")
	}
	src, out := testkernel.SeedTree(t)
	testkernel.Path(t)
	tmp := t.TempDir()
	// Leave the tree plain: the next make rebuilds what the search left flagged.
	t.Cleanup(func() {
		record := filepath.Join(out, ".crashrig-flagged")
		data, _ := os.ReadFile(record)
		for _, obj := range strings.Fields(string(data)) {
			os.Remove(filepath.Join(out, obj))
		}
		os.Remove(record)
	})
	self := filepath.Join(tmp, "crashrig")
	if b, err := exec.Command("go", "build", "-o", self, "github.com/crashrig/crashrig/cmd/crashrig").CombinedOutput(); err != nil {
		t.Fatalf("building crashrig: %v\n%s", err, b)
	}
	cfg := bisect.Config{Limit: 10}
	o := BuildOptions{
		Src: src, Out: out, Flags: "-fstack-check -fno-inline -mpreferred-stack-boundary=4",
		Only: []string{"arch/x86/entry/vdso/"}, Make: []string{"nice", "-n", "15", "make", "-j2"},
		Self: self, Work: filepath.Join(tmp, "work"), Bisect: cfg, Logf: t.Logf,
		Prepare: func(ctx context.Context, kernel string) (Booter, error) {
			return run.Prepare(ctx, run.Options{Kernel: kernel, Repro: repro.Program{Builtin: "vdsostack"},
				Duration: 10 * time.Second, SMP: 2, Memory: 256, LogDir: filepath.Join(tmp, "logs")})
		},
	}
	start := time.Now()
	b, cands, err := NewBuilder(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("candidates: %q", cands)
	res, err := bisect.Minimal(context.Background(), cfg, cands, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kernels built in %s, %d steps, %.0f VM-s, %s in all; confidence %.3f", b.Builds(),
		b.BuildTime.Round(time.Second), len(res.Steps), res.VM, time.Since(start).Round(time.Second), res.Confidence)
	for _, s := range res.Steps {
		t.Logf("  %q: %s: %s (%d runs)", s.Set, s.Verdict, s.Reason, len(s.Runs))
	}
	want := []string{"arch/x86/entry/vdso/vclock_gettime.o"}
	if !res.Exact || !slices.Equal(res.Culprits, want) {
		t.Fatalf("culprits %q (exact %v: %s), want %q", res.Culprits, res.Exact, res.Reason, want)
	}
	if res.Confidence < 0.95 {
		t.Errorf("confidence %.3f, want at least 0.95", res.Confidence)
	}
}
