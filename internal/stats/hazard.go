package stats

import (
	"fmt"
	"math"
	"sort"
)

// A Trend says how the crash hazard changes during a run.
type Trend int

const (
	TrendUnknown  Trend = iota // too few crashes to tell
	TrendConstant              // consistent with a constant hazard (exponential)
	TrendRising                // crashes need time to build up (Weibull shape > 1)
	TrendFalling               // crashes come early or never (Weibull shape < 1)
)

func (t Trend) String() string {
	switch t {
	case TrendConstant:
		return "constant"
	case TrendRising:
		return "rising"
	case TrendFalling:
		return "falling"
	}
	return "unknown"
}

// HazardMinCrashes is the fewest crashes for which CheckHazard gives a verdict.
const HazardMinCrashes = 5

// HazardLevel is the significance level at which CheckHazard calls a trend clear.
const HazardLevel = 0.01

// A Hazard is the result of checking whether crashes come at a constant rate during a run.
//
// It fits a Weibull distribution, S(t) = exp(−(t/η)^k), to the crashed and censored runs
// by maximum likelihood. −ln S(t) = (t/η)^k, so the shape k is the slope of ln(−ln Ŝ)
// against ln t: k = 1 is the straight line of a constant hazard, k > 1 a hazard that rises
// during a run, k < 1 one that falls. A likelihood-ratio test of k = 1 (χ² with 1 degree of
// freedom) decides whether the bend is clear at level HazardLevel.
type Hazard struct {
	Crashes int     // crashes used
	Shape   float64 // fitted Weibull shape k (NaN when Trend is TrendUnknown)
	P       float64 // p-value of the likelihood-ratio test of k = 1 (NaN when unknown)
	Trend   Trend
	P95     float64 // 95th percentile of the observed crash times, in seconds (NaN if none)

	Warnings []string
}

// CheckHazard tests obs for a constant hazard. Warnings explain what a rising or falling
// hazard means for the exposure-based numbers (notes/statistics.md §4).
func CheckHazard(obs []Observation) Hazard {
	sorted, _ := sortedByTime(obs)
	h := Hazard{Shape: math.NaN(), P: math.NaN(), P95: math.NaN()}
	var crashTimes []float64
	for _, o := range sorted {
		if o.Crashed {
			crashTimes = append(crashTimes, o.Time)
		}
	}
	h.Crashes = len(crashTimes)
	if h.Crashes > 0 {
		h.P95 = percentile(crashTimes, 0.95)
	}
	if h.Crashes < HazardMinCrashes {
		return h
	}
	times, crashed := weibullData(sorted)
	ll := func(k float64) float64 { return weibullProfile(times, crashed, k) }
	h.Shape = maximizeLogScale(ll, 0.02, 50)
	lr := math.Max(0, 2*(ll(h.Shape)-ll(1)))
	h.P = ChiSquareSF(lr, 1)
	h.Trend = TrendConstant
	if h.P < HazardLevel {
		h.Trend = TrendRising
		if h.Shape < 1 {
			h.Trend = TrendFalling
		}
	}
	h.Warnings = hazardWarnings(h)
	return h
}

func hazardWarnings(h Hazard) []string {
	switch h.Trend {
	case TrendRising:
		return []string{fmt.Sprintf("hazard rises during a run (Weibull shape %.2g, p = %.2g): "+
			"crashes need time to build up, so many short runs can miss what one long run finds; "+
			"keep the run limit ≥ %s (p95 time to crash) and judge by runs (Bernoulli SPRT), not by total exposure",
			h.Shape, h.P, FormatSeconds(h.P95))}
	case TrendFalling:
		return []string{fmt.Sprintf("hazard falls during a run (Weibull shape %.2g, p = %.2g): "+
			"crashes come early or never, so MTTC from total exposure depends on the run limit "+
			"and many short runs find the crash sooner than few long ones", h.Shape, h.P)}
	}
	return nil
}

// weibullData rescales times so the largest is 1 (the shape does not depend on the unit)
// and keeps crash times away from 0, where ln t diverges.
func weibullData(sorted []Observation) (times []float64, crashed []bool) {
	max := 0.0
	for _, o := range sorted {
		max = math.Max(max, o.Time)
	}
	if max == 0 {
		max = 1
	}
	for _, o := range sorted {
		times = append(times, math.Max(o.Time/max, 1e-6))
		crashed = append(crashed, o.Crashed)
	}
	return times, crashed
}

// weibullProfile is the Weibull log-likelihood at shape k with the scale at its maximum
// for that k, η^k = Σ tᵢ^k / d, up to a constant:
// d ln k + (k−1) Σ_crashed ln tᵢ − d ln(Σ tᵢ^k / d) − d.
func weibullProfile(times []float64, crashed []bool, k float64) float64 {
	d, sumLog, sumPow := 0.0, 0.0, 0.0
	for i, t := range times {
		sumPow += math.Pow(t, k)
		if crashed[i] {
			d++
			sumLog += math.Log(t)
		}
	}
	return d*math.Log(k) + (k-1)*sumLog - d*math.Log(sumPow/d) - d
}

// maximizeLogScale finds the maximum of a unimodal f on [lo, hi] by golden-section search
// on ln x.
func maximizeLogScale(f func(float64) float64, lo, hi float64) float64 {
	a, b := math.Log(lo), math.Log(hi)
	const g = 0.6180339887498949 // (√5 − 1)/2
	c, d := b-g*(b-a), a+g*(b-a)
	fc, fd := f(math.Exp(c)), f(math.Exp(d))
	for b-a > 1e-9 {
		if fc > fd {
			b, d, fd = d, c, fc
			c = b - g*(b-a)
			fc = f(math.Exp(c))
		} else {
			a, c, fc = c, d, fd
			d = a + g*(b-a)
			fd = f(math.Exp(d))
		}
	}
	return math.Exp((a + b) / 2)
}

// percentile returns the q-quantile of xs by linear interpolation between order statistics.
func percentile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}
