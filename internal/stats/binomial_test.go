package stats

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// approx compares floats to 4 significant digits and treats NaNs as equal.
var approx = cmp.Options{cmpopts.EquateApprox(1e-4, 1e-9), cmpopts.EquateNaNs()}

func TestWilson(t *testing.T) {
	tests := []struct {
		name string
		x, n int
		want Interval
	}{
		// 0 of 10: centre (0 + z²/20)/(1 + z²/10) = .1388, half-width the same → [0, .278]
		// (statistics.md §2).
		{"0 of 10", 0, 10, Interval{0, 0, 0.277533, 0.95}},
		// 7 of 30: [.118, .409] (statistics.md §2).
		{"7 of 30", 7, 30, Interval{7.0 / 30, 0.117924, 0.409283, 0.95}},
		// 10 of 10 mirrors 0 of 10.
		{"10 of 10", 10, 10, Interval{1, 1 - 0.277533, 1, 0.95}},
		{"no runs", 0, 0, Interval{math.NaN(), 0, 1, 0.95}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Wilson(tt.x, tt.n, 0.95), approx); diff != "" {
				t.Errorf("Wilson(%d, %d) mismatch (-want +got):\n%s", tt.x, tt.n, diff)
			}
		})
	}
}

func TestClopperPearson(t *testing.T) {
	tests := []struct {
		name string
		x, n int
		conf float64
		want Interval
	}{
		// 0 of 10: upper 1 − .025^(1/10) = .3085 (statistics.md §2).
		{"0 of 10", 0, 10, 0.95, Interval{0, 0, 1 - math.Pow(0.025, 0.1), 0.95}},
		// 7 of 30: [.099, .423] (statistics.md §2).
		{"7 of 30", 7, 30, 0.95, Interval{7.0 / 30, 0.0993379, 0.4228365, 0.95}},
		// 0 of 30: upper 1 − .025^(1/30) = .116.
		{"0 of 30", 0, 30, 0.95, Interval{0, 0, 1 - math.Pow(0.025, 1.0/30), 0.95}},
		// 1000 clean runs: the one-sided 95 % bound (two-sided 90 %) is 1 − .05^(1/1000)
		// = .2991 %, not the 0.1 % sometimes claimed (statistics.md §2).
		{"0 of 1000 one-sided", 0, 1000, 0.90, Interval{0, 0, 0.0029914, 0.90}},
		// 10 of 10: lower .025^(1/10) = .6915.
		{"10 of 10", 10, 10, 0.95, Interval{1, math.Pow(0.025, 0.1), 1, 0.95}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ClopperPearson(tt.x, tt.n, tt.conf), approx); diff != "" {
				t.Errorf("ClopperPearson(%d, %d) mismatch (-want +got):\n%s", tt.x, tt.n, diff)
			}
		})
	}
}

// TestBinomialIntervalProperties checks, for every x of n up to 40, that both intervals
// contain the estimate, that Clopper–Pearson contains Wilson's estimate and is the wider at
// the ends, and that both move up with x.
func TestBinomialIntervalProperties(t *testing.T) {
	for n := 1; n <= 40; n++ {
		var prevW, prevCP Interval
		for x := 0; x <= n; x++ {
			w, cp := Wilson(x, n, 0.95), ClopperPearson(x, n, 0.95)
			for name, iv := range map[string]Interval{"Wilson": w, "CP": cp} {
				if !iv.Contains(iv.Estimate) || iv.Lower < 0 || iv.Upper > 1 {
					t.Errorf("%s(%d, %d) = %v does not contain its estimate within [0, 1]", name, x, n, iv)
				}
			}
			if x > 0 && (w.Lower <= prevW.Lower || w.Upper <= prevW.Upper || cp.Lower <= prevCP.Lower || cp.Upper <= prevCP.Upper) {
				t.Errorf("x = %d of %d: intervals not increasing in x: Wilson %v after %v, CP %v after %v", x, n, w, prevW, cp, prevCP)
			}
			prevW, prevCP = w, cp
		}
		if cp, w := ClopperPearson(0, n, 0.95), Wilson(0, n, 0.95); cp.Upper < w.Upper {
			t.Errorf("0 of %d: CP upper %g below Wilson's %g", n, cp.Upper, w.Upper)
		}
	}
}

func TestBinomialTails(t *testing.T) {
	tests := []struct {
		name      string
		got, want float64
	}{
		// P(X ≤ 1) for Bin(4, .3) = .7⁴ + 4·.3·.7³ = .2401 + .4116.
		{"CDF", BinomialCDF(1, 4, 0.3), 0.6517},
		{"SF", BinomialSF(2, 4, 0.3), 1 - 0.6517},
		// All 6 of 6 crashes in A when A had 360 of 1560 VM-s: (360/1560)^6.
		{"SF far tail", BinomialSF(6, 6, 360.0/1560), math.Pow(360.0/1560, 6)},
		{"CDF below 0", BinomialCDF(-1, 4, 0.3), 0},
		{"SF of 0", BinomialSF(0, 4, 0.3), 1},
		{"two-sided doubles the smaller tail", binomialTwoSided(6, 6, 360.0/1560), 2 * math.Pow(360.0/1560, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !close(tt.got, tt.want, 1e-9) {
				t.Errorf("got %.12g, want %.12g", tt.got, tt.want)
			}
		})
	}
}

func TestPCrashWithin(t *testing.T) {
	// Within 40 s: the crash at 10 s counts; the crash at 50 s and three clean 600 s runs
	// lasted past 40 s and count as clean; the run stopped clean at 30 s cannot tell.
	obs := []Observation{crash(10), crash(50), clean(600), clean(600), clean(600), clean(30)}
	p, runs := PCrashWithin(obs, 40, 0.95)
	if diff := cmp.Diff(Wilson(1, 5, 0.95), p, approx); diff != "" || runs != 5 {
		t.Errorf("PCrashWithin(40 s) = %v over %d runs, want 1 of 5 (-want +got):\n%s", p, runs, diff)
	}
	// Within 600 s: both crashes count, the 30 s run still cannot tell.
	if p, runs := PCrashWithin(obs, 600, 0.95); runs != 5 || p.Estimate != 2.0/5 {
		t.Errorf("PCrashWithin(600 s) = %v over %d runs, want 2 of 5", p, runs)
	}
}
