package stats

import (
	"math"
	"testing"
)

// close reports whether got is within rel (relative) or 1e-300 (absolute) of want.
func close(got, want, rel float64) bool {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= rel*math.Abs(want)+1e-300
}

func TestChiSquareQuantile(t *testing.T) {
	// Standard chi-square table values (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4), given to
	// the digits the table prints; the closed forms are exact.
	tests := []struct {
		p, df, want, rel float64
	}{
		{0.95, 1, 3.841459, 1e-6},
		{0.01, 1, 0.000157088, 1e-5},
		{0.975, 2, -2 * math.Log(0.025), 1e-10}, // df 2 is exponential: −2 ln(1−p) = 7.3778
		{0.025, 2, -2 * math.Log(0.975), 1e-10}, // 0.05064
		{0.5, 2, 2 * math.Ln2, 1e-10},
		{0.025, 10, 3.246973, 1e-6}, // the lower end of "5 crashes in 300 VM-s"
		{0.975, 12, 23.33666, 1e-6}, // its upper end
		{0.05, 10, 3.940299, 1e-6},
		{0.99, 10, 23.20925, 1e-6},
		{0.95, 100, 124.3421, 1e-6},
		{0.001, 30, 11.588, 1e-4},
		{0.3, 0, 0, 0}, // df 0: the point mass at 0 (lower bound with no crash)
	}
	for _, tt := range tests {
		got := ChiSquareQuantile(tt.p, tt.df)
		if !close(got, tt.want, tt.rel) {
			t.Errorf("ChiSquareQuantile(%g, %g) = %.10g, want %.10g", tt.p, tt.df, got, tt.want)
		}
	}
}

func TestNormalQuantile(t *testing.T) {
	tests := []struct{ p, want float64 }{
		{0.5, 0},
		{0.975, 1.959963985},
		{0.95, 1.644853627},
		{0.995, 2.575829304},
		{0.025, -1.959963985},
		{1e-10, -6.361340902404},
		{0, math.Inf(-1)},
		{1, math.Inf(1)},
	}
	for _, tt := range tests {
		got := NormalQuantile(tt.p)
		if !close(got, tt.want, 1e-9) && math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("NormalQuantile(%g) = %.12g, want %.12g", tt.p, got, tt.want)
		}
		if !math.IsInf(got, 0) && !close(NormalCDF(got), tt.p, 1e-9) {
			t.Errorf("NormalCDF(NormalQuantile(%g)) = %g", tt.p, NormalCDF(got))
		}
	}
	if !math.IsNaN(NormalQuantile(1.5)) {
		t.Errorf("NormalQuantile(1.5) is not NaN")
	}
}

func TestGammaP(t *testing.T) {
	tests := []struct {
		name       string
		a, x, want float64
	}{
		{"exponential: 1 − e^−x", 1, 2.5, 1 - math.Exp(-2.5)},
		{"a = 1/2 is erf(√x)", 0.5, 0.7, math.Erf(math.Sqrt(0.7))},
		{"Poisson: P(3, 2) = 1 − e^−2(1 + 2 + 2)", 3, 2, 1 - 5*math.Exp(-2)},
		{"fraction branch: P(3, 10) = 1 − e^−10(1 + 10 + 50)", 3, 10, 1 - 61*math.Exp(-10)},
		{"x = 0", 4, 0, 0},
		{"x = Inf", 4, math.Inf(1), 1},
		{"large a at the mean is near 1/2", 1e4, 1e4, 0.5 + 1/(3*math.Sqrt(2*math.Pi*1e4))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GammaP(tt.a, tt.x); !close(got, tt.want, 1e-6) {
				t.Errorf("GammaP(%g, %g) = %.12g, want %.12g", tt.a, tt.x, got, tt.want)
			}
			if got := GammaQ(tt.a, tt.x); !close(got, 1-tt.want, 1e-6) && math.Abs(got-(1-tt.want)) > 1e-12 {
				t.Errorf("GammaQ(%g, %g) = %.12g, want %.12g", tt.a, tt.x, got, 1-tt.want)
			}
		})
	}
	// Upper tail without cancellation: Q(1, 50) = e^−50.
	if got := GammaQ(1, 50); !close(got, math.Exp(-50), 1e-10) {
		t.Errorf("GammaQ(1, 50) = %g, want %g", got, math.Exp(-50))
	}
}

func TestBetaI(t *testing.T) {
	tests := []struct {
		name          string
		a, b, x, want float64
	}{
		{"I_x(a, 1) = x^a", 3.5, 1, 0.4, math.Pow(0.4, 3.5)},
		{"I_x(1, b) = 1 − (1−x)^b", 1, 7, 0.2, 1 - math.Pow(0.8, 7)},
		{"symmetric at 1/2", 12.5, 12.5, 0.5, 0.5},
		{"I_.3(2, 3) = P(Bin(4, .3) ≥ 2) = 1 − .7⁴ − 4·.3·.7³", 2, 3, 0.3, 1 - 0.2401 - 0.4116},
		{"right of the mean uses the symmetry", 2, 3, 0.9, 1 - math.Pow(0.1, 4) - 4*0.9*math.Pow(0.1, 3)},
		{"x = 0", 2, 3, 0, 0},
		{"x = 1", 2, 3, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BetaI(tt.a, tt.b, tt.x); !close(got, tt.want, 1e-10) {
				t.Errorf("BetaI(%g, %g, %g) = %.14g, want %.14g", tt.a, tt.b, tt.x, got, tt.want)
			}
		})
	}
}

// TestInverses checks that the inverses undo the functions over a grid, including the far
// tails Clopper–Pearson and the chi-square interval reach.
func TestInverses(t *testing.T) {
	ps := []float64{1e-12, 1e-6, 0.001, 0.025, 0.3, 0.5, 0.9, 0.975, 0.999999}
	for _, a := range []float64{0.05, 0.5, 1, 2.5, 11, 101, 5000} {
		for _, p := range ps {
			x := GammaPInv(a, p)
			if got := GammaP(a, x); !close(got, p, 1e-8) {
				t.Errorf("GammaP(%g, GammaPInv(%g, %g) = %g) = %g", a, a, p, x, got)
			}
		}
	}
	for _, ab := range [][2]float64{{0.5, 0.5}, {1, 30}, {30, 1}, {3, 8}, {200, 1800}, {1, 1e5}, {0.2, 4}} {
		for _, p := range ps {
			x := BetaIInv(ab[0], ab[1], p)
			if got := BetaI(ab[0], ab[1], x); !close(got, p, 1e-8) {
				t.Errorf("BetaI(%g, %g, BetaIInv(…, %g) = %g) = %g", ab[0], ab[1], p, x, got)
			}
		}
	}
}

func TestInvalidArguments(t *testing.T) {
	for name, got := range map[string]float64{
		"GammaP(-1, 1)":       GammaP(-1, 1),
		"GammaP(1, -1)":       GammaP(1, -1),
		"GammaPInv(1, 2)":     GammaPInv(1, 2),
		"BetaI(1, 1, 2)":      BetaI(1, 1, 2),
		"BetaI(0, 1, .5)":     BetaI(0, 1, 0.5),
		"BetaIInv(1, 1, -.1)": BetaIInv(1, 1, -0.1),
	} {
		if !math.IsNaN(got) {
			t.Errorf("%s = %g, want NaN", name, got)
		}
	}
}
