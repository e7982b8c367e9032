package stats

import (
	"fmt"
	"math"
	"sort"
)

// A RateRatio compares the crash rates of two configurations A and B under the censored
// exponential model, as the ratio λA/λB (above 1: A crashes more often per second).
//
// The interval is exact and conditional: given d = dA + dB crashes in all, dA is
// Binomial(d, π) with π = ρ·EA/(ρ·EA + EB) for ρ = λA/λB, so a Clopper–Pearson interval on π
// maps to ρ = π/(1−π) · EB/EA (notes/statistics.md §6). It is conservative: simulations give
// α ≈ .03 for a nominal .05.
type RateRatio struct {
	CrashesA  int
	ExposureA float64 // seconds
	CrashesB  int
	ExposureB float64 // seconds

	Ratio Interval // λA/λB; Estimate is +Inf when only A crashed, NaN when nothing did
	P     float64  // two-sided exact p-value of λA = λB (the smaller binomial tail, doubled)

	Warnings []string
}

// CompareRates returns the rate ratio of A (dA crashes in eA seconds) to B (dB in eB) with
// an exact interval at level conf (0.95 if not in (0, 1)).
func CompareRates(dA int, eA float64, dB int, eB float64, conf float64) RateRatio {
	alpha, conf := alphaOf(conf)
	r := RateRatio{CrashesA: dA, ExposureA: eA, CrashesB: dB, ExposureB: eB, P: 1}
	r.Ratio = Interval{Estimate: math.NaN(), Lower: 0, Upper: math.Inf(1), Conf: conf}
	if !(eA > 0 && eB > 0) || dA < 0 || dB < 0 {
		r.Warnings = append(r.Warnings, "a variant has no exposure: nothing to compare")
		return r
	}
	d := dA + dB
	if d == 0 {
		r.Warnings = append(r.Warnings, "neither variant crashed: the ratio is unknown")
		return r
	}
	scale := eB / eA
	odds := func(pi float64) float64 {
		if pi >= 1 {
			return math.Inf(1)
		}
		return pi / (1 - pi) * scale
	}
	lo, hi := clopperPearsonBounds(dA, d, alpha/2, alpha/2)
	r.Ratio.Lower, r.Ratio.Upper = odds(lo), odds(hi)
	r.Ratio.Estimate = odds(float64(dA) / float64(d))
	r.P = binomialTwoSided(dA, d, eA/(eA+eB))
	if d < 5 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("only %d crash(es) in both variants: the ratio is barely constrained", d))
	}
	return r
}

// A LogRank is the log-rank test of equal survival curves for A and B. Z > 0 means A
// crashed more often than expected if both had the same hazard.
type LogRank struct {
	ObservedA int     // crashes in A
	ExpectedA float64 // crashes expected in A under equal hazards
	Variance  float64 // hypergeometric variance of ObservedA − ExpectedA
	Z         float64 // (ObservedA − ExpectedA)/√Variance
	P         float64 // two-sided normal p-value

	Warnings []string
}

// CompareSurvival runs the log-rank test on A's and B's observations (Time and Crashed are
// used). At each crash time tⱼ with nⱼ runs at risk, nAⱼ of them A, and dⱼ crashes:
// ExpectedA += dⱼ·nAⱼ/nⱼ and Variance += dⱼ(nAⱼ/nⱼ)(1 − nAⱼ/nⱼ)(nⱼ − dⱼ)/(nⱼ − 1).
func CompareSurvival(a, b []Observation) LogRank {
	arms := armEvents(a, b)
	n, nA := len(arms), 0
	for _, e := range arms {
		if e.fromA {
			nA++
		}
	}
	var r LogRank
	for i := 0; i < len(arms); {
		t := arms[i].time
		d, dA, leftA, left := 0, 0, 0, 0
		for ; i < len(arms) && arms[i].time == t; i++ {
			left++
			if arms[i].fromA {
				leftA++
			}
			if arms[i].crashed {
				d++
				if arms[i].fromA {
					dA++
				}
			}
		}
		if d > 0 {
			share := float64(nA) / float64(n)
			r.ObservedA += dA
			r.ExpectedA += float64(d) * share
			if n > 1 {
				r.Variance += float64(d) * share * (1 - share) * float64(n-d) / float64(n-1)
			}
		}
		n -= left
		nA -= leftA
	}
	r.Z, r.P = math.NaN(), 1
	if r.Variance > 0 {
		r.Z = (float64(r.ObservedA) - r.ExpectedA) / math.Sqrt(r.Variance)
		r.P = math.Erfc(math.Abs(r.Z) / math.Sqrt2)
	} else {
		r.Warnings = append(r.Warnings, "no crash with both variants at risk: the log-rank test says nothing")
	}
	switch n := min(len(a), len(b)); {
	case n < 3:
		r.Warnings = append(r.Warnings, "fewer than 3 runs in a variant: the two-sided log-rank p-value cannot fall below .05 with so few runs, whatever happened")
	case n < 5:
		r.Warnings = append(r.Warnings, fmt.Sprintf("only %d runs in a variant: the log-rank p-value comes out too small (α ≈ .09 at a nominal .05 with 3 runs each, .06–.07 with 5)", n))
	}
	return r
}

// An armEvent is one run's end, labelled with its variant, for the log-rank walk.
type armEvent struct {
	time    float64
	fromA   bool
	crashed bool
}

// armEvents merges A's and B's usable observations in increasing time.
func armEvents(a, b []Observation) []armEvent {
	var ev []armEvent
	for i, side := range [][]Observation{a, b} {
		sorted, _ := sortedByTime(side)
		for _, o := range sorted {
			ev = append(ev, armEvent{time: o.Time, fromA: i == 0, crashed: o.Crashed})
		}
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].time < ev[j].time })
	return ev
}

// A FisherExact is Fisher's exact test on a 2×2 table of crashed and clean runs, for runs of
// the same fixed length.
type FisherExact struct {
	Greater  float64 // one-sided p-value for "A crashes more often than B"
	Less     float64 // one-sided p-value for "A crashes less often than B"
	TwoSided float64 // sum of the probabilities of tables no more likely than the observed one
}

// Fisher tests crashesA of runsA against crashesB of runsB. 3 of 3 against 0 of 3 gives
// Greater = 1/20; with 1 or 2 runs a side it can never get below .5 and .167.
func Fisher(crashesA, runsA, crashesB, runsB int) FisherExact {
	k := crashesA + crashesB
	n := runsA + runsB
	lo := max(0, k-runsB)
	hi := min(k, runsA)
	if crashesA < lo || crashesA > hi || runsA < 0 || runsB < 0 {
		return FisherExact{Greater: math.NaN(), Less: math.NaN(), TwoSided: math.NaN()}
	}
	prob := func(x int) float64 {
		return math.Exp(lnChoose(k, x) + lnChoose(n-k, runsA-x) - lnChoose(n, runsA))
	}
	observed := prob(crashesA)
	var f FisherExact
	for x := lo; x <= hi; x++ {
		p := prob(x)
		if x >= crashesA {
			f.Greater += p
		}
		if x <= crashesA {
			f.Less += p
		}
		if p <= observed*(1+1e-7) {
			f.TwoSided += p
		}
	}
	f.Greater, f.Less, f.TwoSided = math.Min(f.Greater, 1), math.Min(f.Less, 1), math.Min(f.TwoSided, 1)
	return f
}

// lnChoose returns ln C(n, k).
func lnChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
