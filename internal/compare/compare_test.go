package compare

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/testkernel"
	"github.com/crashrig/crashrig/internal/verdict"
)

// variants prepares one real variant per vCPU count, all running repro.
func variants(t *testing.T, repro repro.Program, dur time.Duration, smps map[string]int, order []string) []Variant {
	t.Helper()
	k := testkernel.Path(t)
	kernels := map[string]string{}
	for _, name := range order {
		kernels[name] = k
	}
	return kernelVariants(t, repro, dur, kernels, smps, order)
}

// kernelVariants prepares one real variant per name, with its kernel and vCPU count (0 = 2).
func kernelVariants(t *testing.T, repro repro.Program, dur time.Duration, kernels map[string]string, smps map[string]int, order []string) []Variant {
	t.Helper()
	var vs []Variant
	for _, name := range order {
		p, err := run.Prepare(context.Background(), run.Options{Kernel: kernels[name], Repro: repro, Duration: dur, SMP: smps[name],
			Accel: "tcg", LogDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, Variant{Name: name, Plan: p, Config: p.Config(name, "")})
	}
	return vs
}

func openDB(t *testing.T) *store.DB {
	db, err := store.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// cancelAfter is a progress display that cancels the comparison after n
// finished runs.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Started(int, int, int64) {}
func (c *cancelAfter) Finished(_, _ int, _ int64, r *record.Run) {
	c.n--
	if c.n == 0 {
		c.cancel()
	}
}
func (c *cancelAfter) Close() {}

// TestRealDifference: a reproducer that panics after 1 s only with two vCPUs,
// a crash in every run of one variant against none of the other. The
// comparison must say so within 16 runs, and survive an interruption.
func TestRealDifference(t *testing.T) {
	repro := repro.Program{Builtin: "selftest", Args: []string{"-mode", "panic", "-when", "ncpu>=2", "-after", "1s"}}
	vs := variants(t, repro, 4*time.Second, map[string]int{"smp2": 2, "smp1": 1}, []string{"smp2", "smp1"})
	db := openDB(t)
	test := sequential.Config{MaxRuns: 40}
	ctx, cancel := context.WithCancel(context.Background())
	first, err := Run(ctx, Options{Variants: vs, Test: test, Jobs: 2, DB: db, Progress: &cancelAfter{n: 3, cancel: cancel}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Decisions[0].Outcome != sequential.Continue {
		t.Fatalf("decided after an interruption at 3 runs: %+v", first.Decisions[0])
	}
	out, err := Run(context.Background(), Options{Variants: vs, Test: test, Jobs: 2, DB: db, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Decisions[0]
	t.Logf("decision %v after %d+%d runs, %d+%d crashes, %.0f VM-s; resumed %d", d.Outcome, d.Runs[0], d.Runs[1], d.Crashes[0], d.Crashes[1], d.VMTime, out.Resumed)
	if out.Session != first.Session || out.Resumed < 2 {
		t.Errorf("second run: session %d resumed %d, want session %d resumed with the runs from before", out.Session, out.Resumed, first.Session)
	}
	if d.Outcome != sequential.MoreA {
		t.Fatalf("outcome %v, want %q", d.Outcome, sequential.MoreA)
	}
	if n := d.Runs[0] + d.Runs[1]; n > 16 {
		t.Errorf("took %d runs: want at most 16", n)
	}
	checkStopped(t, db, out.Session)
}

// checkStopped: runs the comparison stopped are recorded as stopped, never as passes,
// with the time they ran.
func checkStopped(t *testing.T, db *store.DB, session int64) {
	t.Helper()
	recs, err := db.Runs(store.Query{SessionID: session})
	if err != nil {
		t.Fatal(err)
	}
	stopped := 0
	for _, r := range recs {
		switch r.Verdict {
		case verdict.Pass:
			t.Errorf("run %d recorded as a pass: a clean variant's runs here are all stopped early", r.ID)
		case verdict.Stopped:
			stopped++
			if len(r.Iterations) == 0 || !(r.Iterations[0].Ran > 0) {
				t.Errorf("stopped run %d has no time it ran: %+v", r.ID, r.Iterations)
			}
		}
	}
	if stopped == 0 {
		t.Errorf("no run recorded as stopped in session %d", session)
	}
}

// TestRealSeedKernels is the seed story's own comparison: the probed vDSO's
// footprint (4192 bytes) fails vdsostack at once, the clean kernel never. It
// must decide "probed crashes more" within 12 runs, with p(crash) 100 % against
// 0 %.
func TestRealSeedKernels(t *testing.T) {
	clean, probed := testkernel.Seed(t)
	vs := kernelVariants(t, repro.Program{Builtin: "vdsostack"}, 10*time.Second,
		map[string]string{"clean": clean, "probed": probed}, nil, []string{"clean", "probed"})
	db := openDB(t)
	out, err := Run(context.Background(), Options{Variants: vs, Test: sequential.Config{MaxRuns: 40}, Jobs: 2, DB: db, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Decisions[0]
	t.Logf("%s; %d+%d runs, %.0f VM-s, p(crash) %v / %v", d.String(), d.Runs[0], d.Runs[1], d.VMTime, d.PCrash[0], d.PCrash[1])
	if d.Outcome != sequential.MoreB {
		t.Fatalf("outcome %v, want %v", d.Outcome, sequential.MoreB)
	}
	if n := d.Runs[0] + d.Runs[1]; n > 12 {
		t.Errorf("took %d runs: want at most 12", n)
	}
	if d.PCrash[1].Estimate != 1 || d.PCrash[0].Estimate != 0 {
		t.Errorf("p(crash) clean %v, probed %v: want 0 and 1", d.PCrash[0], d.PCrash[1])
	}
	checkStopped(t, db, out.Session)
}

// TestRealBothAlways: a reproducer that panics after 1 s on one vCPU and on two.
// The two crash in every run, a few milliseconds apart: that is never "crashes
// more".
func TestRealBothAlways(t *testing.T) {
	repro := repro.Program{Builtin: "selftest", Args: []string{"-mode", "panic", "-after", "1s"}}
	vs := variants(t, repro, 4*time.Second, map[string]int{"smp1": 1, "smp2": 2}, []string{"smp1", "smp2"})
	out, err := Run(context.Background(), Options{Variants: vs, Test: sequential.Config{MaxRuns: 30}, Jobs: 2, DB: openDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Decisions[0]
	t.Logf("%s", d.String())
	if d.Outcome != sequential.BothAlways {
		t.Fatalf("outcome %v, want %v", d.Outcome, sequential.BothAlways)
	}
}

// TestRealIdentical: two identical variants must never be told apart.
func TestRealIdentical(t *testing.T) {
	repro := repro.Program{Builtin: "selftest", Args: []string{"-mode", "panic", "-p", "0.3", "-after", "1s"}}
	vs := variants(t, repro, 3*time.Second, map[string]int{"A": 1, "B": 1}, []string{"A", "B"})
	out, err := Run(context.Background(), Options{Variants: vs, Test: sequential.Config{MaxRuns: 10}, Jobs: 2, DB: openDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Decisions[0]
	t.Logf("decision %v after %d+%d runs, %d+%d crashes", d.Outcome, d.Runs[0], d.Runs[1], d.Crashes[0], d.Crashes[1])
	if d.Outcome == sequential.MoreA || d.Outcome == sequential.MoreB {
		t.Fatalf("identical variants judged different: %v", d.Outcome)
	}
}
