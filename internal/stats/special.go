package stats

import "math"

// The special functions below are written for the sizes crashrig sees (counts up to a few
// million, probabilities down to 1e-12) and aim for about 1e-10 relative accuracy, which is
// far below anything a report rounds to.

const (
	specialEps  = 1e-15  // convergence threshold for series and continued fractions
	specialTiny = 1e-300 // guards divisions in Lentz's continued fraction algorithm
	specialIter = 1000   // iteration cap; reached only for absurd arguments
)

// GammaP is the regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a) for a > 0,
// x ≥ 0: the probability that a Gamma(a, 1) variable is at most x. It is NaN for invalid
// arguments.
func GammaP(a, x float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(x) || a <= 0 || x < 0:
		return math.NaN()
	case x == 0:
		return 0
	case math.IsInf(x, 1):
		return 1
	case x < a+1:
		return gammaSeries(a, x)
	default:
		return 1 - gammaFraction(a, x)
	}
}

// GammaQ is the regularized upper incomplete gamma function Q(a, x) = 1 − P(a, x), computed
// without cancellation in the upper tail.
func GammaQ(a, x float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(x) || a <= 0 || x < 0:
		return math.NaN()
	case x == 0:
		return 1
	case math.IsInf(x, 1):
		return 0
	case x < a+1:
		return 1 - gammaSeries(a, x)
	default:
		return gammaFraction(a, x)
	}
}

// gammaPrefix is x^a e^−x / Γ(a), the factor shared by the series and the fraction.
func gammaPrefix(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return math.Exp(a*math.Log(x) - x - lg)
}

// gammaSeries sums P(a, x) = x^a e^−x/Γ(a) · Σ x^n / (a (a+1) … (a+n)); it converges fast
// for x < a+1.
func gammaSeries(a, x float64) float64 {
	term := 1 / a
	sum := term
	for n := 1; n < specialIter; n++ {
		term *= x / (a + float64(n))
		sum += term
		if math.Abs(term) < math.Abs(sum)*specialEps {
			break
		}
	}
	return sum * gammaPrefix(a, x)
}

// gammaFraction evaluates Q(a, x) by its continued fraction (Lentz's method); it converges
// fast for x ≥ a+1.
func gammaFraction(a, x float64) float64 {
	b := x + 1 - a
	c := 1 / specialTiny
	d := 1 / b
	h := d
	for i := 1; i < specialIter; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < specialTiny {
			d = specialTiny
		}
		c = b + an/c
		if math.Abs(c) < specialTiny {
			c = specialTiny
		}
		d = 1 / d
		step := d * c
		h *= step
		if math.Abs(step-1) < specialEps {
			break
		}
	}
	return h * gammaPrefix(a, x)
}

// GammaPInv returns x with P(a, x) = p, for a > 0 and 0 ≤ p ≤ 1: the p-quantile of a
// Gamma(a, 1) variable.
func GammaPInv(a, p float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(p) || a <= 0 || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return 0
	case p == 1:
		return math.Inf(1)
	}
	lg, _ := math.Lgamma(a)
	density := func(x float64) float64 { return math.Exp((a-1)*math.Log(x) - x - lg) }
	return invert(func(x float64) float64 { return GammaP(a, x) }, density, p, gammaGuess(a, p), 0, math.Inf(1))
}

// gammaGuess is a starting point for GammaPInv: the Wilson–Hilferty cube-root normal
// approximation for a ≥ 1, and the small-x behaviour P ≈ x^a/Γ(a+1) below.
func gammaGuess(a, p float64) float64 {
	if a >= 1 {
		z := NormalQuantile(p)
		c := 1 / (9 * a)
		x := a * math.Pow(1-c+z*math.Sqrt(c), 3)
		if x > 0 {
			return x
		}
		return a * 1e-3
	}
	lg, _ := math.Lgamma(a + 1)
	x := math.Exp((math.Log(p) + lg) / a)
	if x <= 0 || math.IsInf(x, 0) || x > 2*a+10 {
		return a + 1
	}
	return x
}

// lnBeta returns ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a+b).
func lnBeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

// BetaI is the regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1:
// the probability that a Beta(a, b) variable is at most x. It is NaN for invalid arguments.
func BetaI(a, b, x float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(b) || math.IsNaN(x) || a <= 0 || b <= 0 || x < 0 || x > 1:
		return math.NaN()
	case x == 0:
		return 0
	case x == 1:
		return 1
	}
	// The continued fraction converges fast left of the mean; use the symmetry
	// I_x(a, b) = 1 − I_{1−x}(b, a) on the right.
	if x > (a+1)/(a+b+2) {
		return 1 - betaFractionTerm(b, a, 1-x)
	}
	return betaFractionTerm(a, b, x)
}

// betaFractionTerm is x^a (1−x)^b / (a B(a, b)) times the continued fraction for I_x(a, b).
func betaFractionTerm(a, b, x float64) float64 {
	front := math.Exp(a*math.Log(x) + b*math.Log1p(-x) - lnBeta(a, b))
	return front * betaFraction(a, b, x) / a
}

// betaFraction evaluates the continued fraction of the incomplete beta function by Lentz's
// method. Its terms alternate between the even coefficients m(b−m)x/((a+2m−1)(a+2m)) and the
// odd ones −(a+m)(a+b+m)x/((a+2m)(a+2m+1)).
func betaFraction(a, b, x float64) float64 {
	c := 1.0
	d := 1 - (a+b)*x/(a+1)
	if math.Abs(d) < specialTiny {
		d = specialTiny
	}
	d = 1 / d
	h := d
	step := func(coef float64) float64 {
		d = 1 + coef*d
		if math.Abs(d) < specialTiny {
			d = specialTiny
		}
		c = 1 + coef/c
		if math.Abs(c) < specialTiny {
			c = specialTiny
		}
		d = 1 / d
		return d * c
	}
	for m := 1; m < specialIter; m++ {
		fm := float64(m)
		h *= step(fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm)))
		delta := step(-(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1)))
		h *= delta
		if math.Abs(delta-1) < specialEps {
			break
		}
	}
	return h
}

// BetaIInv returns x with I_x(a, b) = p, for a, b > 0 and 0 ≤ p ≤ 1: the p-quantile of a
// Beta(a, b) variable.
func BetaIInv(a, b, p float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(b) || math.IsNaN(p) || a <= 0 || b <= 0 || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return 0
	case p == 1:
		return 1
	}
	lb := lnBeta(a, b)
	density := func(x float64) float64 {
		return math.Exp((a-1)*math.Log(x) + (b-1)*math.Log1p(-x) - lb)
	}
	return invert(func(x float64) float64 { return BetaI(a, b, x) }, density, p, betaGuess(a, b, p), 0, 1)
}

// betaGuess is a starting point for BetaIInv: a normal approximation to the beta
// distribution, pulled inside (0, 1).
func betaGuess(a, b, p float64) float64 {
	n := a + b
	mean := a / n
	sd := math.Sqrt(a * b / (n * n * (n + 1)))
	x := mean + NormalQuantile(p)*sd
	return math.Min(math.Max(x, mean*1e-3), 1-(1-mean)*1e-3)
}

// invert solves cdf(x) = p for an increasing cdf with derivative density on (lo, hi),
// starting at guess. Newton steps are kept inside a shrinking bracket and replaced by
// bisection (or doubling, while hi is infinite) whenever they would leave it, so it
// converges even from a poor guess.
func invert(cdf, density func(float64) float64, p, guess, lo, hi float64) float64 {
	x := guess
	for i := 0; i < 400; i++ {
		f := cdf(x) - p
		if f == 0 {
			return x
		}
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		next := x - f/density(x)
		if !(next > lo && next < hi) { // also catches NaN from a zero density
			if math.IsInf(hi, 1) {
				next = 2*x + 1
			} else {
				next = lo + (hi-lo)/2
			}
		}
		if math.Abs(next-x) <= 1e-14*math.Abs(next) || next == lo || next == hi {
			return next
		}
		x = next
	}
	return x
}

// NormalQuantile returns z with Φ(z) = p for the standard normal distribution: 1.959964 for
// p = 0.975. It is −Inf at 0, +Inf at 1 and NaN outside [0, 1].
func NormalQuantile(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p > 0.5:
		return -NormalQuantile(1 - p)
	}
	// Φ(z) = erfc(−z/√2)/2 gives z = −√2·erfc⁻¹(2p), but the library's erfc⁻¹ works through
	// 1 − 2p and loses the far tail, so polish with Halley steps on Φ, whose erfc is exact
	// there. Start from −√(−2 ln p) where erfc⁻¹ gives up.
	z := -math.Sqrt2 * math.Erfcinv(2*p)
	if math.IsInf(z, 0) || math.IsNaN(z) {
		z = -math.Sqrt(-2 * math.Log(p))
	}
	for i := 0; i < 3; i++ {
		u := (NormalCDF(z) - p) * math.Sqrt(2*math.Pi) * math.Exp(z*z/2)
		z -= u / (1 + z*u/2)
	}
	return z
}

// NormalCDF returns Φ(z), the standard normal distribution function.
func NormalCDF(z float64) float64 {
	return math.Erfc(-z/math.Sqrt2) / 2
}

// ChiSquareQuantile returns the p-quantile of the chi-square distribution with df degrees
// of freedom (df ≥ 0; df = 0 is the point mass at 0): 3.841 for p = 0.95, df = 1.
func ChiSquareQuantile(p, df float64) float64 {
	if df == 0 && p >= 0 && p <= 1 {
		return 0
	}
	return 2 * GammaPInv(df/2, p)
}

// ChiSquareSF returns P(X > x) for a chi-square variable X with df > 0 degrees of freedom.
func ChiSquareSF(x, df float64) float64 {
	if x <= 0 {
		return 1
	}
	return GammaQ(df/2, x/2)
}
