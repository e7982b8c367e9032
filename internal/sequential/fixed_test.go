package sequential

import (
	"testing"

	"github.com/crashrig/crashrig/internal/stats"
	"github.com/google/go-cmp/cmp"
)

// runFixed records n runs per variant: A's crash at aCrash seconds when aCrashes > i,
// B's likewise; clean runs last limit seconds.
func runFixed(t *testing.T, cfg Config, n, aCrashes, bCrashes int, crashAt, limit float64) Decision {
	t.Helper()
	cfg.FixedRuns = n
	c := mustNew(t, cfg)
	for i := 0; i < n; i++ {
		for v, crashes := range []int{aCrashes, bCrashes} {
			if c.Done() {
				t.Fatalf("done before run %d", i+1)
			}
			r := Observation{Ticket: next(t, c), Exposure: limit}
			if i < crashes {
				r.Crashed, r.Exposure = true, crashAt
			}
			if r.Variant != v {
				t.Fatalf("run %d: Next gave variant %d, want %d", i+1, r.Variant, v)
			}
			mustRecord(t, c, r)
		}
	}
	if !c.Done() {
		t.Fatal("not done after all runs")
	}
	return c.Decisions()[0]
}

func TestFixed(t *testing.T) {
	tests := []struct {
		name               string
		cfg                Config
		n, aCrash, bCrash  int
		want               Answer
		wantRatio          stats.Interval
		wantFisherGreater  float64
		wantFisherTwoSided float64
	}{{
		// 3 × 10 min, A always crashes at 60 s, B never: 3 crashes in 180 s against 0 in
		// 1800 s. All crashes in A: π ≥ .025^(1/3) = .2924, so λA/λB ≥ .2924/.7076 · 1800/180
		// = 4.13 > 1. Fisher: 1/C(6,3) = 1/20 one-sided (statistics.md §6).
		name: "A always, B never", n: 3, aCrash: 3, bCrash: 0, want: MoreA,
		wantRatio:         stats.Interval{Estimate: inf, Lower: 4.132314, Upper: inf, Conf: 0.95},
		wantFisherGreater: 0.05, wantFisherTwoSided: 0.1,
	}, {
		// 5 of 10 each in equal time: CP for 5 of 10 is [.1871, .8129] → [.2301, 4.345],
		// wider than (1/2, 2): the runs cannot tell. Fisher: P(X ≥ 5) for 10 of 20 drawn = .672.
		name: "too few", n: 10, aCrash: 5, bCrash: 5, want: Undecided,
		wantRatio:         stats.Interval{Estimate: 1, Lower: 0.2301425, Upper: 4.345135, Conf: 0.95},
		wantFisherGreater: 0.6718591, wantFisherTwoSided: 1,
	}, {
		// 100 of 100 each at 60 s: CP for 100 of 200 is [.4287, .5713] → [.7503, 1.333],
		// inside (1/2, 2).
		name: "no difference", n: 100, aCrash: 100, bCrash: 100, want: NoDifference,
		wantRatio:         stats.Interval{Estimate: 1, Lower: 0.7502665, Upper: 1.332860, Conf: 0.95},
		wantFisherGreater: 1, wantFisherTwoSided: 1,
	}, {
		// Per run, Fisher decides: 3 of 3 against 0 of 3 is .1 two-sided, not enough…
		name: "per run, 3 runs", cfg: Config{Method: PerRun}, n: 3, aCrash: 3, bCrash: 0, want: Undecided,
		wantRatio:         stats.Interval{Estimate: inf, Lower: 4.132314, Upper: inf, Conf: 0.95},
		wantFisherGreater: 0.05, wantFisherTwoSided: 0.1,
	}, {
		// …4 of 4 against 0 of 4 is 2/C(8,4) = 2/70 = .029. (The rate ratio is still
		// reported: ≥ .025^(1/4)/(1 − .025^(1/4)) · 10 = 6.60.)
		name: "per run, 4 runs", cfg: Config{Method: PerRun}, n: 4, aCrash: 4, bCrash: 0, want: MoreA,
		wantRatio:         stats.Interval{Estimate: inf, Lower: 6.601240, Upper: inf, Conf: 0.95},
		wantFisherGreater: 1.0 / 70, wantFisherTwoSided: 2.0 / 70,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := runFixed(t, tt.cfg, tt.n, tt.aCrash, tt.bCrash, 60, 600)
			if d.Outcome != tt.want || !d.Fixed {
				t.Errorf("outcome %v (fixed %v), want %v", d.Outcome, d.Fixed, tt.want)
			}
			if diff := cmp.Diff(tt.wantRatio, d.Ratio, approx); diff != "" {
				t.Errorf("ratio (-want +got):\n%s", diff)
			}
			if d.Fisher == nil || !close(d.Fisher.Greater, tt.wantFisherGreater) || !close(d.Fisher.TwoSided, tt.wantFisherTwoSided) {
				t.Errorf("Fisher %+v, want greater %g, two-sided %g", d.Fisher, tt.wantFisherGreater, tt.wantFisherTwoSided)
			}
		})
	}
}
