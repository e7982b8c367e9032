package stats

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompareRates(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name           string
		dA             int
		eA             float64
		dB             int
		eB             float64
		want           Interval
		wantP          float64
		wantWarnPrefix string
	}{{
		// A: 6 crashes in 360 s; B: none in 1200 s. All 6 in A: π ≥ .025^(1/6) = .5407, so
		// ρ ≥ .5407/.4593 · 1200/360 = 3.925. p = 2·(360/1560)^6 = 3.01e-4.
		name: "only A crashed", dA: 6, eA: 360, dB: 0, eB: 1200,
		want: Interval{inf, 3.924749, inf, 0.95}, wantP: 2 * math.Pow(360.0/1560, 6),
	}, {
		// 10 and 10 in equal time: CP for 10 of 20 is [.27196, .72804] → ρ in
		// [.27196/.72804, .72804/.27196] = [.3735, 2.677]; p = 1.
		name: "equal", dA: 10, eA: 1000, dB: 10, eB: 1000,
		want: Interval{1, 0.3735468, 2.677040, 0.95}, wantP: 1,
	}, {
		// Swapping A and B inverts the ratio.
		name: "only B crashed", dA: 0, eA: 1200, dB: 6, eB: 360,
		want: Interval{0, 0, 1 / 3.924749, 0.95}, wantP: 2 * math.Pow(360.0/1560, 6),
	}, {
		name: "nothing crashed", dA: 0, eA: 100, dB: 0, eB: 100,
		want: Interval{math.NaN(), 0, inf, 0.95}, wantP: 1, wantWarnPrefix: "neither variant crashed",
	}, {
		// 2 and 1 in equal time: CP for 2 of 3 is [.0943, .9916] → ρ in [.1041, 118.0].
		name: "few crashes", dA: 2, eA: 100, dB: 1, eB: 100,
		want: Interval{2, 0.1041175, 117.9944, 0.95}, wantP: 1, wantWarnPrefix: "only 3 crash(es)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := CompareRates(tt.dA, tt.eA, tt.dB, tt.eB, 0.95)
			if diff := cmp.Diff(tt.want, r.Ratio, approx); diff != "" {
				t.Errorf("ratio mismatch (-want +got):\n%s", diff)
			}
			if !close(r.P, tt.wantP, 1e-6) {
				t.Errorf("P = %g, want %g", r.P, tt.wantP)
			}
			var warn string
			if len(r.Warnings) > 0 {
				warn = r.Warnings[0][:len(tt.wantWarnPrefix)]
			}
			if warn != tt.wantWarnPrefix {
				t.Errorf("warnings %q, want one starting %q", r.Warnings, tt.wantWarnPrefix)
			}
		})
	}
}

func TestCompareSurvival(t *testing.T) {
	// A crashes at 10 and 20 s; B crashes at 30 s and is censored at 40 s.
	//   t=10: 4 at risk, 2 of A: E_A += 1·2/4 = .5;  V += .5·.5·(4−1)/(4−1) = .25
	//   t=20: 3 at risk, 1 of A: E_A += 1/3;         V += (1/3)(2/3)(3−1)/(3−1) = .2222
	//   t=30: 2 at risk, 0 of A: nothing.
	// Z = (2 − .8333)/√.4722 = 1.6977, p = .0896.
	a := []Observation{crash(10), crash(20)}
	b := []Observation{crash(30), clean(40)}
	want := LogRank{ObservedA: 2, ExpectedA: 5.0 / 6, Variance: 0.25 + 2.0/9, Z: 1.697749, P: 0.08955507,
		Warnings: []string{"fewer than 3 runs in a variant: the two-sided log-rank p-value cannot fall below .05 with so few runs, whatever happened"}}
	if diff := cmp.Diff(want, CompareSurvival(a, b), approx); diff != "" {
		t.Errorf("CompareSurvival mismatch (-want +got):\n%s", diff)
	}
	// Swapping the arms flips Z and keeps P.
	if got := CompareSurvival(b, a); !close(got.Z, -1.697749, 1e-6) || !close(got.P, 0.08955507, 1e-6) {
		t.Errorf("swapped: Z = %g, P = %g", got.Z, got.P)
	}
	// Identical arms: Z = 0.
	same := []Observation{crash(5), crash(15), clean(60)}
	if got := CompareSurvival(same, same); math.Abs(got.Z) > 1e-12 || got.P != 1 {
		t.Errorf("identical arms: Z = %g, P = %g", got.Z, got.P)
	}
}

func TestFisher(t *testing.T) {
	tests := []struct {
		name                   string
		cA, nA, cB, nB         int
		greater, less, twoSide float64
	}{
		// Fixed 10-min runs, A always crashes, B never (statistics.md §6): 1 run each gives
		// at best p = 1/2, 2 runs 1/C(4,2) = 1/6, 3 runs 1/C(6,3) = 1/20.
		{"1 v 1", 1, 1, 0, 1, 0.5, 1, 1},
		{"2 v 2", 2, 2, 0, 2, 1.0 / 6, 1, 2.0 / 6},
		{"3 v 3", 3, 3, 0, 3, 1.0 / 20, 1, 2.0 / 20},
		// Fisher's tea: 3 of 4 against 1 of 4. P(X ≥ 3) = (C(4,3)C(4,1) + 1)/C(8,4) = 17/70;
		// two-sided adds the mirror tables: 34/70.
		{"tea", 3, 4, 1, 4, 17.0 / 70, 69.0 / 70, 34.0 / 70},
		{"nothing crashed", 0, 5, 0, 5, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := FisherExact{Greater: tt.greater, Less: tt.less, TwoSided: tt.twoSide}
			if diff := cmp.Diff(want, Fisher(tt.cA, tt.nA, tt.cB, tt.nB), approx); diff != "" {
				t.Errorf("Fisher mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompareRatesProperties: the interval holds the estimate, moves up with A's crashes,
// and only A's share of the exposure matters, not its scale.
func TestCompareRatesProperties(t *testing.T) {
	var prev RateRatio
	for dA := 1; dA <= 50; dA++ {
		r := CompareRates(dA, 1000, 10, 2000, 0.95)
		if !r.Ratio.Contains(r.Ratio.Estimate) {
			t.Errorf("dA = %d: %v misses its estimate", dA, r.Ratio)
		}
		if dA > 1 && (r.Ratio.Lower <= prev.Ratio.Lower || r.Ratio.Upper <= prev.Ratio.Upper) {
			t.Errorf("dA = %d: %v not above %v", dA, r.Ratio, prev.Ratio)
		}
		scaled := CompareRates(dA, 10, 10, 20, 0.95)
		if !close(scaled.Ratio.Lower, r.Ratio.Lower, 1e-12) || !close(scaled.P, r.P, 1e-12) {
			t.Errorf("dA = %d: exposure scale changed the result: %v vs %v", dA, scaled.Ratio, r.Ratio)
		}
		prev = r
	}
}
