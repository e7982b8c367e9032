package sequential

import (
	"math"
	"testing"
)

// TestBench prints the benchmark table (go test -run Bench -v) and holds the goal of
// the issue: clearing a clean kernel against one with MTTC 60 s costs at most a third of
// the VM time of the usual 10 runs of 10 × MTTC per variant.
func TestCompareDesigns(t *testing.T) {
	reps := 1000
	if testing.Short() {
		reps = 200
	}
	tab, err := CompareDesigns(Config{}, reps, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", tab)

	head := tab.Rows[0]
	if head.Name != "A MTTC 60 s, B clean" {
		t.Fatalf("first row is %q", head.Name)
	}
	if ratio := head.Seq.MeanVM / head.Practice.MeanVM; ratio > 1.0/3 {
		t.Errorf("clearing B against A (MTTC 60 s) took %.0f VM-s, %.2f of the %.0f of 10 runs × 600 s; want ≤ 1/3",
			head.Seq.MeanVM, ratio, head.Practice.MeanVM)
	}
	if head.Wrong(head.Seq) > 0 {
		t.Errorf("clean against bad: wrong %.3f", head.Wrong(head.Seq))
	}
	// One kernel: −ln(.05/.95) × 60 s = 176.7 VM-s against 600 for one 10-minute run.
	o := tab.OneSample
	if math.Abs(o.CleanVM-math.Log(19)*60) > 1e-9 || o.CleanVM > o.OneRunVM/3 {
		t.Errorf("one kernel cleared in %g VM-s, want 176.7", o.CleanVM)
	}
	// β = P(no crash in 176.7 s at MTTC 60 s) = e^−2.944 = 1/19 = .053.
	if max := threeSigma(1.0/19, reps); o.BadMiss > max {
		t.Errorf("one kernel: bad kernel missed %.3f, allowed %.3f", o.BadMiss, max)
	}
	if tab.Rows[0].FixedPoints != 114 {
		t.Errorf("fixed design needs %d points, want 114 (two-sided α = .05, power .95 at p = 2/3)", tab.Rows[0].FixedPoints)
	}
}

// BenchmarkCompare reports, per scenario, the mean VM seconds to a decision of the
// sequential test (vm-s/decision) next to the fixed-sample test at the same error rates
// (fixed-vm-s) and the usual 10 runs × 600 s per variant (practice-vm-s):
//
//	go test -run '^$' -bench Compare ./internal/sequential
func BenchmarkCompare(b *testing.B) {
	cfg := Config{Variants: []string{"A", "B"}, Limit: 600}
	practice := cfg
	practice.FixedRuns = 10
	n := fixedPoints(DefaultAlpha, DefaultBeta, DefaultMinRatio)
	for _, s := range DesignScenarios()[:8] {
		b.Run(s.Name, func(b *testing.B) {
			var seq, fixed SimResult
			seed := uint64(0)
			for b.Loop() {
				seed++
				seq, _ = Simulate(cfg, s.Scenario, 200, seed)
				fixed, _ = Simulate(practice, s.Scenario, 200, seed)
			}
			b.ReportMetric(seq.MeanVM, "vm-s/decision")
			b.ReportMetric(float64(n)*vmPerPoint(s.Variants[0], s.Variants[1], s.Limit), "fixed-vm-s")
			b.ReportMetric(fixed.MeanVM, "practice-vm-s")
			b.ReportMetric(DesignRow{DesignScenario: s}.Wrong(seq), "wrong")
		})
	}
}
