package stats

import (
	"fmt"
	"math"
	"sort"
)

// A SurvivalPoint is one step of a Kaplan–Meier curve, at a time where at least one run
// crashed or ended.
type SurvivalPoint struct {
	Time     float64 // seconds from reproducer start
	AtRisk   int     // runs still going just before Time
	Crashes  int     // runs that crashed at Time
	Censored int     // runs that ended at Time without a crash (they count as at risk at Time)
	Survival float64 // Ŝ(Time): estimated probability that a run has not crashed by Time
	StdErr   float64 // Greenwood standard error of Ŝ(Time)
	Lower    float64 // pointwise lower bound on S(Time) (log-log interval)
	Upper    float64 // pointwise upper bound on S(Time)
}

// A Survival is a Kaplan–Meier estimate of the probability that a run survives (has not
// crashed) to each time, from crashed and censored runs.
//
// Variance is Greenwood's, Var Ŝ = Ŝ² Σ dⱼ/(nⱼ(nⱼ−dⱼ)). The pointwise interval is the log-log
// (Kalbfleisch–Prentice) one, Ŝ^exp(±z·σ/|ln Ŝ|) with σ² = Σ dⱼ/(nⱼ(nⱼ−dⱼ)): unlike the plain
// Ŝ ± z·SE it stays inside [0, 1] and is not absurdly narrow near Ŝ = 1. Where Ŝ is 1 the
// interval is [1, 1]; where Ŝ reaches 0 it is [0, 0].
//
// At tied times crashes are counted before censorings: a run that ended at the second
// another crashed was still at risk then.
type Survival struct {
	Points   []SurvivalPoint // in increasing Time, one per distinct time
	Conf     float64
	Warnings []string
}

// KaplanMeier estimates the survival curve of obs at pointwise confidence conf (0.95 if
// not in (0, 1)). Only Time and Crashed are used; observations with a negative or NaN Time
// are skipped with a warning.
func KaplanMeier(obs []Observation, conf float64) Survival {
	alpha, conf := alphaOf(conf)
	z := NormalQuantile(1 - alpha/2)
	s := Survival{Conf: conf}
	sorted, bad := sortedByTime(obs)
	if bad > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d observation(s) with a negative or missing time skipped", bad))
	}
	atRisk := len(sorted)
	surv, greenwood := 1.0, 0.0
	for i := 0; i < len(sorted); {
		p := SurvivalPoint{Time: sorted[i].Time, AtRisk: atRisk}
		for ; i < len(sorted) && sorted[i].Time == p.Time; i++ {
			if sorted[i].Crashed {
				p.Crashes++
			} else {
				p.Censored++
			}
		}
		if p.Crashes > 0 {
			n, d := float64(p.AtRisk), float64(p.Crashes)
			surv *= 1 - d/n
			if p.Crashes < p.AtRisk {
				greenwood += d / (n * (n - d))
			}
		}
		p.Survival = surv
		p.StdErr = surv * math.Sqrt(greenwood)
		p.Lower, p.Upper = logLogInterval(surv, greenwood, z)
		s.Points = append(s.Points, p)
		atRisk -= p.Crashes + p.Censored
	}
	return s
}

// sortedByTime returns the usable observations in increasing Time and how many were not.
func sortedByTime(obs []Observation) (sorted []Observation, bad int) {
	sorted = make([]Observation, 0, len(obs))
	for _, o := range obs {
		if !(o.Time >= 0) {
			bad++
			continue
		}
		sorted = append(sorted, o)
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time < sorted[j].Time })
	return sorted, bad
}

// logLogInterval returns the log-log interval for survival surv with Greenwood sum g.
func logLogInterval(surv, g, z float64) (lo, hi float64) {
	switch {
	case surv >= 1:
		return 1, 1
	case surv <= 0:
		return 0, 0
	}
	sigma := math.Sqrt(g) / math.Abs(math.Log(surv))
	return math.Pow(surv, math.Exp(z*sigma)), math.Pow(surv, math.Exp(-z*sigma))
}

// At returns Ŝ(t): 1 before the first crash, and the last step at or before t after it.
func (s Survival) At(t float64) float64 {
	i := sort.Search(len(s.Points), func(i int) bool { return s.Points[i].Time > t })
	if i == 0 {
		return 1
	}
	return s.Points[i-1].Survival
}

// Quantile returns the first time by which a fraction q of runs has crashed (Ŝ ≤ 1−q): the
// median time to crash for q = 0.5. It is +Inf when the curve never gets that low, as with
// mostly censored runs.
func (s Survival) Quantile(q float64) float64 {
	for _, p := range s.Points {
		if p.Survival <= 1-q+1e-12 {
			return p.Time
		}
	}
	return math.Inf(1)
}

// CumulativeHazard returns −ln Ŝ(t) at every point: a straight line through the origin
// against t means a constant hazard (exponential crash times), a curve bending up means a
// hazard that grows during a run.
func (s Survival) CumulativeHazard() []float64 {
	h := make([]float64, len(s.Points))
	for i, p := range s.Points {
		h[i] = -math.Log(p.Survival)
	}
	return h
}

// CrashWithin returns p(crash within t) = 1 − Ŝ(t) with its pointwise interval, and the
// time up to which the curve is known: t itself, or the longest run's end when every run
// ended earlier (the estimate is then p(crash within that time), a lower bound for t).
// Runs stopped early count as far as they ran, which a plain crashed/runs count cannot do.
func (s Survival) CrashWithin(t float64) (p Interval, known float64) {
	p = Interval{Estimate: 0, Lower: 0, Upper: 0, Conf: s.Conf}
	if len(s.Points) == 0 {
		return Interval{Estimate: math.NaN(), Lower: 0, Upper: 1, Conf: s.Conf}, 0
	}
	known = math.Min(t, s.Points[len(s.Points)-1].Time)
	i := sort.Search(len(s.Points), func(i int) bool { return s.Points[i].Time > t })
	if i == 0 || s.Points[i-1].Survival >= 1 {
		// No crash yet: the curve's own interval is the point 0. Bound it as 0 crashes in
		// the runs that lasted to the time asked, or, when none did, in all runs up to
		// the shortest of them.
		n := 0
		for _, pt := range s.Points {
			if pt.Time >= t {
				n += pt.Crashes + pt.Censored
			}
		}
		if n == 0 {
			n, known = s.Points[0].AtRisk, math.Min(t, s.Points[0].Time)
		}
		return Wilson(0, n, s.Conf), known
	}
	pt := s.Points[i-1]
	return Interval{Estimate: 1 - pt.Survival, Lower: 1 - pt.Upper, Upper: 1 - pt.Lower, Conf: s.Conf}, known
}
