package compare

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/testkernel"
)

// variants prepares one real variant per vCPU count, all running repro.
func variants(t *testing.T, repro image.Repro, dur time.Duration, smps map[string]int, order []string) []Variant {
	t.Helper()
	k := testkernel.Path(t)
	var vs []Variant
	for _, name := range order {
		p, err := run.Prepare(context.Background(), run.Options{Kernel: k, Repro: repro, Duration: dur, SMP: smps[name],
			Accel: "tcg", LogDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, Variant{Name: name, Plan: p, Config: batch.ConfigOf(p, name, "")})
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
func (c *cancelAfter) Finished(_, _ int, _ int64, r *run.Result) {
	c.n--
	if c.n == 0 {
		c.cancel()
	}
}
func (c *cancelAfter) Close() {}

// TestRealDifference: a reproducer that panics only with two vCPUs. The
// comparison must say so, early, and survive an interruption.
func TestRealDifference(t *testing.T) {
	repro := image.Repro{Builtin: "selftest", Args: []string{"-mode", "panic", "-when", "ncpu>=2", "-after", "1s"}}
	vs := variants(t, repro, 4*time.Second, map[string]int{"smp2": 2, "smp1": 1}, []string{"smp2", "smp1"})
	db := openDB(t)
	test := sequential.Config{MinRatio: 10, MaxRuns: 40}
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
	if n := d.Runs[0] + d.Runs[1]; n > 24 {
		t.Errorf("took %d runs: not early", n)
	}
}

// TestRealIdentical: two identical variants must never be told apart.
func TestRealIdentical(t *testing.T) {
	repro := image.Repro{Builtin: "selftest", Args: []string{"-mode", "panic", "-p", "0.3", "-after", "1s"}}
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
