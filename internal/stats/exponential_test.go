package stats

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExponential(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name     string
		crashes  int
		exposure float64
		want     Rate
	}{{
		// 5 crashes in 300 VM-s → MTTC in [26 s, 185 s] (statistics.md §3):
		// χ²_.025(10) = 3.2470 → λ ≥ 3.2470/600; χ²_.975(12) = 23.337 → λ ≤ 23.337/600.
		name: "5 crashes in 300 VM-s", crashes: 5, exposure: 300,
		want: Rate{Crashes: 5, Exposure: 300, Conf: 0.95,
			Rate: Interval{5.0 / 300, 3.246973 / 600, 23.33666 / 600, 0.95},
			MTTC: Interval{60, 25.71062, 184.7875, 0.95}},
	}, {
		// 0 crashes in 1800 VM-s → λ ≤ −ln .05/1800 = 2.996/1800, MTTC ≥ 601 s (§3).
		name: "no crash in 1800 VM-s", crashes: 0, exposure: 1800,
		want: Rate{Exposure: 1800, Conf: 0.95,
			Rate:     Interval{0, 0, 2.995732 / 1800, 0.95},
			MTTC:     Interval{inf, 600.8547, inf, 0.95},
			Warnings: []string{"no crash in 30m0s VM-time: rate < 5.99 per hour at 95%"}},
	}, {
		// 1 crash in 100 s: χ²_.025(2) = .050636, χ²_.975(4) = 11.1433 → MTTC [17.9 s, 3950 s].
		name: "one crash", crashes: 1, exposure: 100,
		want: Rate{Crashes: 1, Exposure: 100, Conf: 0.95,
			Rate:     Interval{0.01, 0.050636 / 200, 11.14329 / 200, 0.95},
			MTTC:     Interval{100, 17.94803, 3949.789, 0.95},
			Warnings: []string{"only 1 crash(es): MTTC is known to within a factor of 220"}},
	}, {
		name: "no exposure", crashes: 0, exposure: 0,
		want: Rate{Conf: 0.95,
			Rate:     Interval{math.NaN(), 0, inf, 0.95},
			MTTC:     Interval{math.NaN(), 0, inf, 0.95},
			Warnings: []string{"no exposure (0 s): rate unknown"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Exponential(tt.crashes, tt.exposure, 0.95)
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("Exponential(%d, %g) mismatch (-want +got):\n%s", tt.crashes, tt.exposure, diff)
			}
		})
	}
}

// TestExponentialProperties: the interval contains the MLE, shrinks relative to it as
// crashes accumulate at a fixed rate, and moves up with the crash count at fixed exposure.
func TestExponentialProperties(t *testing.T) {
	prevWidth := math.Inf(1)
	var prev Rate
	for d := 1; d <= 200; d++ {
		r := Exponential(d, 60*float64(d), 0.95)
		if !r.Rate.Contains(r.Rate.Estimate) || !r.MTTC.Contains(r.MTTC.Estimate) {
			t.Errorf("%d crashes: intervals %v, %v miss the estimate", d, r.Rate, r.MTTC)
		}
		width := r.MTTC.Upper / r.MTTC.Lower
		if width >= prevWidth {
			t.Errorf("%d crashes: MTTC interval ratio %g did not shrink from %g", d, width, prevWidth)
		}
		prevWidth = width

		fixed := Exponential(d, 1000, 0.95)
		if d > 1 && (fixed.Rate.Lower <= prev.Rate.Lower || fixed.Rate.Upper <= prev.Rate.Upper) {
			t.Errorf("%d crashes in 1000 s: rate interval %v not above %v", d, fixed.Rate, prev.Rate)
		}
		prev = fixed
	}
	// Censored time only adds exposure: more clean VM time means a lower rate bound.
	if a, b := Exponential(0, 600, 0.95), Exponential(0, 1200, 0.95); b.Rate.Upper >= a.Rate.Upper {
		t.Errorf("bound did not fall with exposure: %g then %g", a.Rate.Upper, b.Rate.Upper)
	}
}

// TestClearingCost pins "to clear a kernel at miss rate β you need MTTC·ln(1/β) crash-free
// VM-seconds" (statistics.md §3): with no crash in that exposure, the one-sided bound at
// confidence 1−β is exactly the rate 1/MTTC.
func TestClearingCost(t *testing.T) {
	for _, beta := range []float64{0.05, 0.01, 0.001} {
		exposure := 60 * math.Log(1/beta) // 3.0×, 4.6×, 6.9× MTTC for MTTC = 60 s
		r := Exponential(0, exposure, 1-beta)
		if !close(r.MTTC.Lower, 60, 1e-12) {
			t.Errorf("β = %g: %g clean VM-s bound MTTC at %g, want 60", beta, exposure, r.MTTC.Lower)
		}
	}
}

func TestFormatSeconds(t *testing.T) {
	for in, want := range map[float64]string{
		1800:        "30m0s",
		107.6:       "1m48s",
		3.54:        "3.5s",
		0.0123:      "12ms",
		math.Inf(1): "+Inf s",
	} {
		if got := FormatSeconds(in); got != want {
			t.Errorf("FormatSeconds(%g) = %q, want %q", in, got, want)
		}
	}
}
