package bisect

import (
	"math"
	"strings"
	"testing"
)

// simReps is the number of bisections per scenario: 1000, or 200 with -short.
func simReps() int {
	if testing.Short() {
		return 200
	}
	return 1000
}

// slack is three binomial standard deviations of a rate p over n trials.
func slack(p float64, n int) float64 { return 3 * math.Sqrt(p*(1-p)/float64(n)) }

// TestSimulateDefaultBudget checks the promise of the default configuration on every
// scenario: wrong at most 5 % (plus three standard deviations), and the true culprit
// named in at least 95 % where every candidate builds and boots. Where some do not, a
// range around an untestable culprit is the honest answer, so only the error is checked
// there, with correct answers at least 85 %.
func TestSimulateDefaultBudget(t *testing.T) {
	n := simReps()
	for i, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			r, err := Simulate(Config{}, sc, Sequential, n, uint64(100+i))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d bisections: %.1f%% correct, %.1f%% wrong, %.1f%% inconclusive, %.0f VM-s mean, %.1f steps",
				n, 100*r.Rate(r.Correct), 100*r.Rate(r.Wrong), 100*r.Rate(r.Inconclusive), r.MeanVM, r.MeanSteps)
			if w := r.Rate(r.Wrong); w > 0.05+slack(0.05, n) {
				t.Errorf("wrong in %.1f%% of bisections, want at most 5%%", 100*w)
			}
			want := 0.95
			if sc.BuildFail > 0 || sc.BootFail > 0 {
				want = 0.85
			}
			if c := r.Rate(r.Correct); c < want-slack(want, n) {
				t.Errorf("correct in %.1f%% of bisections, want at least %.0f%%", 100*c, 100*want)
			}
		})
	}
}

// TestSimulateSmallBudget gives each step too few runs to decide a flaky crash: the
// bisection must say "inconclusive" (a range holding the culprit) rather than name a wrong
// culprit, and at a lower confidence the error stays within its larger bound.
func TestSimulateSmallBudget(t *testing.T) {
	n := simReps()
	flaky := Scenario{Name: "flaky", N: 100, Good: Never, Bad: Law{Mean: 20, Reproduce: 0.3}, Limit: 60, Boot: 2}
	half := flaky
	half.Bad.Reproduce = 0.5
	for _, tc := range []struct {
		name     string
		sc       Scenario
		cfg      Config
		maxWrong float64
		minIncon float64
	}{
		// Enough to pass the check of the ends most of the time, too few for every step.
		{"50% reproducible, 25 runs per step", half, Config{StepRuns: 25}, 0.05, 0.3},
		{"4 runs per step", flaky, Config{StepRuns: 4}, 0.05, 0.5},
		{"300 VM-s per step", flaky, Config{StepVMSeconds: 300}, 0.05, 0.5},
		{"confidence 80%", flaky, Config{Confidence: 0.8}, 0.2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Simulate(tc.cfg, tc.sc, Sequential, n, 7)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%.1f%% correct, %.1f%% wrong, %.1f%% inconclusive", 100*r.Rate(r.Correct), 100*r.Rate(r.Wrong),
				100*r.Rate(r.Inconclusive))
			if w := r.Rate(r.Wrong); w > tc.maxWrong+slack(tc.maxWrong, n) {
				t.Errorf("wrong in %.1f%%, want at most %.0f%%", 100*w, 100*tc.maxWrong)
			}
			if in := r.Rate(r.Inconclusive); in < tc.minIncon {
				t.Errorf("inconclusive in %.1f%%, want at least %.0f%%", 100*in, 100*tc.minIncon)
			}
		})
	}
}

// TestFixedPolicyErrs shows what the sequential steps are for: syzkaller's fixed policy
// misses a crash that reproduces in 30 % of runs (0.7^10 ≈ 2.8 % per bad step, more with
// crashes past the limit) and blames commits when the good side crashes now and then.
func TestFixedPolicyErrs(t *testing.T) {
	n := simReps()
	for _, sc := range Scenarios() {
		if !strings.Contains(sc.Name, "30%") && !strings.HasPrefix(sc.Name, "good") {
			continue
		}
		r, err := Simulate(Config{}, sc, Fixed10, n, 3)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: fixed policy %.1f%% wrong", sc.Name, 100*r.Rate(r.Wrong))
		if r.Rate(r.Wrong) < 0.05 {
			t.Errorf("%s: fixed policy wrong in only %.1f%%: the scenario does not show its weakness", sc.Name, 100*r.Rate(r.Wrong))
		}
	}
}

func BenchmarkBisect(b *testing.B) {
	sc := Scenarios()[0]
	for b.Loop() {
		if _, err := Simulate(Config{}, sc, Sequential, 10, 1); err != nil {
			b.Fatal(err)
		}
	}
}
