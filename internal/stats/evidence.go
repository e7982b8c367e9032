package stats

import (
	"math"
	"sort"
)

// A RiskSet is one crash time of a two-sample comparison: how many runs of A and of B were
// still running (at risk) when it came, and how many of each crashed there. Crash times
// closer than a [Ties] tolerance share one RiskSet.
type RiskSet struct {
	AtRiskA, AtRiskB   int
	CrashesA, CrashesB int
}

// Ties says when two crash times count as the same: within Rel of the earlier one
// (relative) or within Abs seconds, whichever is wider. A systematic lead of a few percent
// (a crash at 1.10 s against one at 1.14 s in every run) is then no evidence that one
// variant crashes more. The zero value ties only equal times.
type Ties struct {
	Rel float64 // e.g. 0.1: times within 10 % of the first of a group are tied
	Abs float64 // seconds
}

// DefaultTies is what crashrig compare uses: 10 % or 50 ms.
var DefaultTies = Ties{Rel: 0.1, Abs: 0.05}

// Span returns the last time tied with first.
func (t Ties) Span(first float64) float64 {
	return first + math.Max(first*t.Rel, t.Abs)
}

// RiskSets walks A's and B's runs in time order and returns one RiskSet per group of tied
// crash times. A group starts at its earliest crash and takes every crash within the
// tolerance of it; every run that lasted at least to the group's start is at risk in it
// (a run censored inside the group counts as at risk, the usual convention). Observations
// with a negative or NaN time are left out.
func RiskSets(a, b []Observation, ties Ties) []RiskSet {
	type end struct {
		time    float64
		fromA   bool
		crashed bool
	}
	var ends []end
	nA, nB := 0, 0
	for i, side := range [][]Observation{a, b} {
		for _, o := range side {
			if !(o.Time >= 0) || math.IsInf(o.Time, 0) {
				continue
			}
			ends = append(ends, end{o.Time, i == 0, o.Crashed})
			if i == 0 {
				nA++
			} else {
				nB++
			}
		}
	}
	// At equal times crashes come first: a run censored at the second another crashed was
	// still running then, whichever variant it belongs to.
	sort.SliceStable(ends, func(i, j int) bool {
		if ends[i].time != ends[j].time {
			return ends[i].time < ends[j].time
		}
		return ends[i].crashed && !ends[j].crashed
	})
	var sets []RiskSet
	for i := 0; i < len(ends); {
		if !ends[i].crashed { // a censored run leaves before the next crash time
			if ends[i].fromA {
				nA--
			} else {
				nB--
			}
			i++
			continue
		}
		rs := RiskSet{AtRiskA: nA, AtRiskB: nB}
		limit := ties.Span(ends[i].time)
		for ; i < len(ends) && ends[i].time <= limit; i++ {
			e := ends[i]
			if e.fromA {
				nA--
				if e.crashed {
					rs.CrashesA++
				}
			} else {
				nB--
				if e.crashed {
					rs.CrashesB++
				}
			}
		}
		sets = append(sets, rs)
	}
	return sets
}

// LogLR returns ln(L(θ)/L(1)) for the partial likelihood of the risk sets, where θ is the
// hazard ratio of A to B. Each risk set contributes the conditional probability of its
// split of crashes between A and B given their number: Fisher's noncentral
// hypergeometric law with odds θ, which is the plain hypergeometric at θ = 1 (exact for
// tied times). θ = +Inf and 0 are the limits: 0 (or −Inf) unless every crash fell on the
// side the limit favours as far as the risk sets allowed.
func LogLR(sets []RiskSet, theta float64) float64 {
	lt := math.Log(theta)
	sum := 0.0
	for _, s := range sets {
		sum += s.logLR(lt)
	}
	return sum
}

// logLR is one risk set's ln(P(split | θ)/P(split | 1)), with lt = ln θ.
func (s RiskSet) logLR(lt float64) float64 {
	d := s.CrashesA + s.CrashesB
	lo, hi := max(0, d-s.AtRiskB), min(d, s.AtRiskA)
	if lo == hi || lt == 0 {
		return 0 // the split was forced, or θ = 1: no information
	}
	switch {
	case math.IsInf(lt, 1):
		if s.CrashesA == hi {
			return lnChoose(s.AtRiskA+s.AtRiskB, d) - lnChoose(s.AtRiskA, hi) - lnChoose(s.AtRiskB, d-hi)
		}
		return math.Inf(-1)
	case math.IsInf(lt, -1):
		if s.CrashesA == lo {
			return lnChoose(s.AtRiskA+s.AtRiskB, d) - lnChoose(s.AtRiskA, lo) - lnChoose(s.AtRiskB, d-lo)
		}
		return math.Inf(-1)
	}
	if d == 1 { // the usual case, in closed form: P(A) = θ·nA/(θ·nA + nB)
		nA, nB := float64(s.AtRiskA), float64(s.AtRiskB)
		l := math.Log(nA+nB) - math.Log(math.Exp(lt)*nA+nB)
		if s.CrashesA == 1 {
			l += lt
		}
		return l
	}
	// ln Σₓ C(nA,x)C(nB,d−x)θˣ by log-sum-exp, against ln C(n, d) at θ = 1.
	terms := make([]float64, 0, hi-lo+1)
	top := math.Inf(-1)
	for x := lo; x <= hi; x++ {
		v := lnChoose(s.AtRiskA, x) + lnChoose(s.AtRiskB, d-x) + float64(x)*lt
		terms = append(terms, v)
		top = math.Max(top, v)
	}
	acc := 0.0
	for _, v := range terms {
		acc += math.Exp(v - top)
	}
	norm := top + math.Log(acc)
	return float64(s.CrashesA)*lt - norm + lnChoose(s.AtRiskA+s.AtRiskB, d)
}

// HazardRatio estimates θ = hazard of A / hazard of B from the risk sets by maximum
// partial likelihood, with the profile-likelihood interval at level conf (the θ whose
// log-likelihood lies within χ²₁(conf)/2 of the maximum). When every crash fell on one
// side as far as the risk sets allowed, the estimate is +Inf (or 0) and the interval is
// open on that side. With no informative risk set the estimate is NaN and the interval
// [0, +Inf].
func HazardRatio(sets []RiskSet, conf float64) Interval {
	_, conf = alphaOf(conf)
	iv := Interval{Estimate: math.NaN(), Lower: 0, Upper: math.Inf(1), Conf: conf}
	ll := func(lt float64) float64 {
		s := 0.0
		for _, r := range sets {
			s += r.logLR(lt)
		}
		return s
	}
	const span = 12.0 // ln θ in [−12, 12]: ratios past 1.6e5 read as unbounded
	if ll(span) == ll(0) && ll(-span) == ll(0) {
		return iv // nothing informative
	}
	// ll is concave in ln θ: golden-section search for the top.
	lo, hi := -span, span
	g := (math.Sqrt(5) - 1) / 2
	x1, x2 := hi-g*(hi-lo), lo+g*(hi-lo)
	f1, f2 := ll(x1), ll(x2)
	for hi-lo > 1e-6 {
		if f1 < f2 {
			lo, x1, f1 = x1, x2, f2
			x2 = lo + g*(hi-lo)
			f2 = ll(x2)
		} else {
			hi, x2, f2 = x2, x1, f1
			x1 = hi - g*(hi-lo)
			f1 = ll(x1)
		}
	}
	top := (lo + hi) / 2
	best := ll(top)
	cut := best - ChiSquareQuantile(conf, 1)/2
	edge := func(from, to float64) float64 { // where ll crosses cut between from (above) and to
		if ll(to) >= cut {
			return to
		}
		for i := 0; i < 60; i++ {
			mid := (from + to) / 2
			if ll(mid) >= cut {
				from = mid
			} else {
				to = mid
			}
		}
		return (from + to) / 2
	}
	expo := func(x float64) float64 {
		switch {
		case x >= span-1e-3:
			return math.Inf(1)
		case x <= -span+1e-3:
			return 0
		}
		return math.Exp(x)
	}
	iv.Estimate, iv.Lower, iv.Upper = expo(top), expo(edge(top, -span)), expo(edge(top, span))
	return iv
}

// TimeRatio compares the crash times of A and B when every run of both crashed: the ratio
// of B's geometric mean time to crash to A's (above 1: A crashes sooner), with a
// two-sided interval at level conf from Student's t on the log times (pooled variance).
// Crash times within a run are often nearly constant (a deterministic crash), which is
// what this is for: 1.10 s against 1.14 s every run gives a ratio near 1.04 with a narrow
// interval. It returns an estimate of NaN when either side has fewer than two times.
func TimeRatio(a, b []float64, conf float64) Interval {
	_, conf = alphaOf(conf)
	iv := Interval{Estimate: math.NaN(), Lower: 0, Upper: math.Inf(1), Conf: conf}
	if len(a) < 2 || len(b) < 2 {
		return iv
	}
	ma, va := logMoments(a)
	mb, vb := logMoments(b)
	if math.IsNaN(ma) || math.IsNaN(mb) {
		return iv
	}
	df := float64(len(a) + len(b) - 2)
	pooled := (va*float64(len(a)-1) + vb*float64(len(b)-1)) / df
	se := math.Sqrt(pooled * (1/float64(len(a)) + 1/float64(len(b))))
	half := StudentTQuantile(1-(1-conf)/2, df) * se
	d := mb - ma
	iv.Estimate, iv.Lower, iv.Upper = math.Exp(d), math.Exp(d-half), math.Exp(d+half)
	return iv
}

// logMoments returns the mean and sample variance of ln x (NaN for a time ≤ 0).
func logMoments(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		if !(x > 0) {
			return math.NaN(), math.NaN()
		}
		mean += math.Log(x)
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		d := math.Log(x) - mean
		variance += d * d
	}
	return mean, variance / float64(len(xs)-1)
}

// StudentTQuantile returns the p-quantile of Student's t distribution with df degrees of
// freedom, through the regularized incomplete beta function.
func StudentTQuantile(p, df float64) float64 {
	switch {
	case p == 0.5:
		return 0
	case p < 0.5:
		return -StudentTQuantile(1-p, df)
	}
	x := BetaIInv(df/2, 0.5, 2*(1-p))
	return math.Sqrt(df * (1 - x) / x)
}
