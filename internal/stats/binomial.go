package stats

import (
	"fmt"
	"math"
	"strconv"
)

// An Interval is a point estimate with a two-sided confidence interval around it. An
// unbounded side is ±Inf; Conf is the confidence level (0.95 for 95 %).
type Interval struct {
	Estimate float64
	Lower    float64
	Upper    float64
	Conf     float64
}

// Contains reports whether x lies in [Lower, Upper].
func (iv Interval) Contains(x float64) bool { return iv.Lower <= x && x <= iv.Upper }

// Format writes the interval with digits significant digits and +Inf as "∞", for ratios:
// Format(2) of a hazard ratio with no upper bound is "7.1 [3, ∞]".
func (iv Interval) Format(digits int) string {
	f := func(x float64) string {
		if math.IsInf(x, 1) {
			return "∞"
		}
		return strconv.FormatFloat(x, 'g', digits, 64)
	}
	return f(iv.Estimate) + " [" + f(iv.Lower) + ", " + f(iv.Upper) + "]"
}

// String formats the interval as "0.233 [0.118, 0.409]".
func (iv Interval) String() string {
	return fmt.Sprintf("%.3g [%.3g, %.3g]", iv.Estimate, iv.Lower, iv.Upper)
}

// alphaOf converts a confidence level to the total error probability α = 1 − conf, using
// 0.95 when conf is not in (0, 1).
func alphaOf(conf float64) (alpha, c float64) {
	if !(conf > 0 && conf < 1) {
		conf = 0.95
	}
	return 1 - conf, conf
}

// Wilson returns the Wilson score interval for x crashes in n runs: the estimate x/n with a
// two-sided interval at level conf (0.95 if conf is not in (0, 1)). It keeps its coverage
// close to nominal even for x = 0 or x = n, where the textbook p̂ ± z·se collapses to a
// point. With n = 0 the interval is [0, 1] and the estimate NaN.
func Wilson(x, n int, conf float64) Interval {
	alpha, conf := alphaOf(conf)
	if n <= 0 || x < 0 || x > n {
		return Interval{Estimate: math.NaN(), Lower: 0, Upper: 1, Conf: conf}
	}
	z := NormalQuantile(1 - alpha/2)
	fn := float64(n)
	p := float64(x) / fn
	z2n := z * z / fn
	centre := (p + z2n/2) / (1 + z2n)
	half := z / (1 + z2n) * math.Sqrt(p*(1-p)/fn+z2n/(4*fn))
	iv := Interval{Estimate: p, Lower: math.Max(0, centre-half), Upper: math.Min(1, centre+half), Conf: conf}
	// At x = 0 and x = n the bound is the estimate itself; keep rounding from moving it off.
	if x == 0 {
		iv.Lower = 0
	}
	if x == n {
		iv.Upper = 1
	}
	return iv
}

// ClopperPearson returns the exact (Clopper–Pearson) interval for x crashes in n runs:
// [BetaInv(α/2; x, n−x+1), BetaInv(1−α/2; x+1, n−x)]. It never covers less than conf and is
// usually wider than Wilson. With x = 0 the upper end is 1 − (α/2)^(1/n).
func ClopperPearson(x, n int, conf float64) Interval {
	alpha, conf := alphaOf(conf)
	if n <= 0 || x < 0 || x > n {
		return Interval{Estimate: math.NaN(), Lower: 0, Upper: 1, Conf: conf}
	}
	lo, hi := clopperPearsonBounds(x, n, alpha/2, alpha/2)
	return Interval{Estimate: float64(x) / float64(n), Lower: lo, Upper: hi, Conf: conf}
}

// clopperPearsonBounds returns the exact binomial bounds with tail probabilities aLo below
// and aHi above.
func clopperPearsonBounds(x, n int, aLo, aHi float64) (lo, hi float64) {
	lo, hi = 0, 1
	if x > 0 {
		lo = BetaIInv(float64(x), float64(n-x+1), aLo)
	}
	if x < n {
		hi = BetaIInv(float64(x+1), float64(n-x), 1-aHi)
	}
	return lo, hi
}

// BinomialCDF returns P(X ≤ k) for X ~ Binomial(n, p).
func BinomialCDF(k, n int, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= n:
		return 1
	case p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	// P(X ≤ k) = I_{1−p}(n−k, k+1).
	return BetaI(float64(n-k), float64(k+1), 1-p)
}

// BinomialSF returns P(X ≥ k) for X ~ Binomial(n, p).
func BinomialSF(k, n int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	// P(X ≥ k) = I_p(k, n−k+1), accurate in the far upper tail.
	return BetaI(float64(k), float64(n-k+1), p)
}

// binomialTwoSided is the two-sided exact binomial p-value for x successes in n trials
// under p0, doubling the smaller tail (the test the Clopper–Pearson interval inverts).
func binomialTwoSided(x, n int, p0 float64) float64 {
	if n == 0 {
		return 1
	}
	lower := BinomialCDF(x, n, p0)
	upper := BinomialSF(x, n, p0)
	return math.Min(1, 2*math.Min(lower, upper))
}

// PCrashWithin estimates p(crash within t seconds) from runs of any length: a run that
// crashed by t counts as a crash, a run that lasted longer than t (crashed later or not
// at all) as a clean run, and a run that ended clean before t is left out, since it cannot
// tell. It returns the Wilson interval at level conf and the number of runs used.
// 1 − KaplanMeier(obs).At(t) is the estimate that also uses the short runs.
func PCrashWithin(obs []Observation, t, conf float64) (p Interval, runs int) {
	crashed := 0
	for _, o := range obs {
		switch {
		case !(o.Time >= 0):
		case o.Crashed && o.Time <= t:
			crashed++
			runs++
		case o.Time >= t:
			runs++
		}
	}
	return Wilson(crashed, runs, conf), runs
}
