package stats

import (
	"math"
	"testing"
)

func TestStudentTQuantile(t *testing.T) {
	// Table values: t(0.975; 1) = 12.706, t(0.975; 4) = 2.776, t(0.975; 30) = 2.042.
	for _, tt := range []struct{ p, df, want float64 }{{0.975, 1, 12.706}, {0.975, 4, 2.776}, {0.975, 30, 2.042}, {0.025, 4, -2.776}} {
		if got := StudentTQuantile(tt.p, tt.df); math.Abs(got-tt.want) > 1e-3 {
			t.Errorf("StudentTQuantile(%g, %g) = %.4f, want %.3f", tt.p, tt.df, got, tt.want)
		}
	}
}

// TestLogLR pins the partial likelihood on hand-computed risk sets.
func TestLogLR(t *testing.T) {
	// One crash of A with 4 A and 4 B at risk: P(A | θ) = 4θ/(4θ+4); at θ = 2 that is
	// 2/3 against 1/2, so the ratio is 4/3.
	one := []RiskSet{{AtRiskA: 4, AtRiskB: 4, CrashesA: 1}}
	if got := LogLR(one, 2); math.Abs(got-math.Log(4.0/3)) > 1e-12 {
		t.Errorf("one crash: %g, want ln(4/3)", got)
	}
	// Four tied crashes, all A, of 4 A and 4 B at risk: 1/C(8,4) = 1/70 under θ = 1,
	// so the limit θ → ∞ has ratio 70 and θ → 0 ratio 0.
	tied := []RiskSet{{AtRiskA: 4, AtRiskB: 4, CrashesA: 4}}
	if got := LogLR(tied, math.Inf(1)); math.Abs(got-math.Log(70)) > 1e-9 {
		t.Errorf("tied, θ = ∞: %g, want ln 70", got)
	}
	if got := LogLR(tied, 0); !math.IsInf(got, -1) {
		t.Errorf("tied, θ = 0: %g, want -Inf", got)
	}
	// θ = 3 by hand: Σₓ C(4,x)C(4,4−x)3ˣ = 1 + 48 + 324 + 432 + 81 = 886, so the ratio is
	// 81/886 over 1/70.
	if got, want := LogLR(tied, 3), math.Log(81.0/886*70); math.Abs(got-want) > 1e-9 {
		t.Errorf("tied, θ = 3: %g, want %g", got, want)
	}
}

// TestRiskSets: ties within the tolerance share a set; a run censored at a crash's
// second is still at risk for it, whichever variant it belongs to.
func TestRiskSets(t *testing.T) {
	a := []Observation{{Crashed: true, Time: 1.10}, {Crashed: true, Time: 5}, {Time: 10}}
	b := []Observation{{Crashed: true, Time: 1.14}, {Time: 5}, {Time: 10}}
	got := RiskSets(a, b, Ties{Rel: 0.1})
	want := []RiskSet{{AtRiskA: 3, AtRiskB: 3, CrashesA: 1, CrashesB: 1}, {AtRiskA: 2, AtRiskB: 2, CrashesA: 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("RiskSets = %+v, want %+v", got, want)
	}
	if got := RiskSets(a, b, Ties{}); len(got) != 3 {
		t.Errorf("no tolerance: %d sets, want 3", len(got))
	}
}

// TestHazardRatio: complete separation gives an open upper end; equal data a ratio near 1.
func TestHazardRatio(t *testing.T) {
	sep := []RiskSet{{4, 4, 1, 0}, {3, 4, 1, 0}, {2, 4, 1, 0}, {1, 4, 1, 0}}
	if iv := HazardRatio(sep, 0.95); !math.IsInf(iv.Estimate, 1) || !math.IsInf(iv.Upper, 1) || !(iv.Lower > 1) {
		t.Errorf("separated: %v, want ∞ with a lower bound above 1", iv)
	}
	even := []RiskSet{{4, 4, 1, 0}, {3, 4, 0, 1}, {3, 3, 1, 0}, {2, 3, 0, 1}}
	if iv := HazardRatio(even, 0.95); !(iv.Lower < 1 && iv.Upper > 1) {
		t.Errorf("even: %v, want an interval around 1", iv)
	}
}
