package sequential

import (
	"fmt"
	"math"

	"github.com/crashrig/crashrig/internal/stats"
)

// The LogRank method weighs the partial likelihood of all finished runs of two variants
// (crash times, runs that ended clean, runs stopped early) as e-values: nonnegative
// statistics whose expectation under "no difference" is at most 1 at every look, so that
// by Ville's inequality the chance they ever reach 1/x is at most x however often they
// are looked at. See the package documentation for the rule and its guarantee.

// mixture is the prior over hazard ratios θ > 1 that the "A crashes more" e-value mixes
// over, as powers of MinRatio: half its weight on MinRatio itself, so that near the
// smallest effect asked for the test is almost as quick as an SPRT tuned to it, and the
// rest spread from √MinRatio to effects so large that the variants never overlap. The
// e-value of "B crashes more" uses the reciprocals. The mass far out is what lets a crash
// in every run of one variant against none of the other decide after 5 runs each
// (C(10,5) = 252 orderings, all equally likely under no difference).
var mixture = []struct{ power, weight float64 }{
	{1, 0.5}, {2, 0.125}, {3, 0.125}, {5, 0.125}, {12, 0.125},
}

// evidence is where a LogRank comparison of two variants stands.
type evidence struct {
	sets []stats.RiskSet
	// lnE holds ln of the mixture e-values of "A crashes more" and "B crashes more".
	lnE [2]float64
	// lnAgainst holds ln L(1)/L(R) and ln L(1)/L(1/R): the evidence against a difference
	// of MinRatio in either direction.
	lnAgainst [2]float64
}

// weigh computes the evidence of a's observations against b's.
func weigh(a, b []stats.Observation, ratio float64, ties stats.Ties) evidence {
	ev := evidence{sets: stats.RiskSets(a, b, ties)}
	lr := math.Log(ratio)
	for side, sign := range []float64{1, -1} {
		terms := make([]float64, len(mixture))
		for i, m := range mixture {
			terms[i] = math.Log(m.weight) + stats.LogLR(ev.sets, math.Exp(sign*m.power*lr))
		}
		ev.lnE[side] = logSumExp(terms)
		ev.lnAgainst[side] = -stats.LogLR(ev.sets, math.Exp(sign*lr))
	}
	return ev
}

// logSumExp returns ln(Σ exp(x)) without overflow.
func logSumExp(x []float64) float64 {
	top := math.Inf(-1)
	for _, v := range x {
		top = math.Max(top, v)
	}
	if math.IsInf(top, -1) {
		return top
	}
	sum := 0.0
	for _, v := range x {
		sum += math.Exp(v - top)
	}
	return top + math.Log(sum)
}

// bothAlwaysRuns is how many runs of each variant, every one of them a crash, BothAlways
// needs at least: the fewest n with 2⁻ⁿ ≤ β, so that a variant crashing in at most half
// its runs passes for one that always crashes with probability at most β.
func bothAlwaysRuns(beta float64) int {
	return max(3, int(math.Ceil(-math.Log2(beta))))
}

// bothAlways reports whether the runs of a and b show two variants that crash every
// time at about the same time: at least bothAlwaysRuns runs each, every one a crash, and
// the 1−β/5 interval on the ratio of their times to crash inside (1/MinRatio, MinRatio).
// It only ever takes the place of a difference, never creates one, so α is untouched. The
// interval is wider than a single look needs (1−β) because it is looked at after every
// run; in simulation a time ratio of exactly MinRatio passes for "inside" in under β/2 of
// comparisons.
func (c *Comparison) bothAlways(a, b []stats.Observation) bool {
	n := bothAlwaysRuns(c.cfg.Beta)
	if len(a) < n || len(b) < n || !allCrashed(a) || !allCrashed(b) {
		return false
	}
	iv := stats.TimeRatio(times(a), times(b), 1-c.cfg.Beta/5)
	return iv.Lower > 1/c.cfg.MinRatio && iv.Upper < c.cfg.MinRatio
}

func times(obs []stats.Observation) []float64 {
	t := make([]float64, len(obs))
	for i, o := range obs {
		t[i] = o.Time
	}
	return t
}

// allCrashed reports whether every observation is a crash.
func allCrashed(obs []stats.Observation) bool {
	for _, o := range obs {
		if !o.Crashed {
			return false
		}
	}
	return true
}

// scoreLogRank re-weighs test t on all finished runs of its two variants and decides it
// when the evidence allows. Each direction ("A crashes more", "B crashes more") is its own
// test at α/2 and β: it rejects "no difference" when its mixture e-value reaches 2/α, and
// closes for good when the evidence against a MinRatio difference in its direction
// reaches 1/β; a closed direction can no longer reject. The outcome is MoreA or MoreB
// when a direction rejects, NoDifference when both have closed, and BothAlways first of
// all when both variants crashed in every run and their times to crash differ by less
// than MinRatio (see bothAlways): crashing a few percent sooner every time is not
// crashing more.
func (c *Comparison) scoreLogRank(t *pairTest) {
	a, b := completeHeats(c.variants[t.a], c.variants[t.b], c.cfg.Limit)
	t.ev = weigh(a, b, c.cfg.MinRatio, c.cfg.Ties)
	reject := math.Log(2 / c.cfg.pairAlpha())
	accept := math.Log(1 / c.cfg.Beta)
	for side := range t.closed {
		if t.ev.lnAgainst[side] >= accept {
			t.closed[side] = true
		}
	}
	switch {
	case c.bothAlways(a, b):
		t.outcome = BothAlways
	case !t.closed[0] && t.ev.lnE[0] >= reject:
		t.outcome = MoreA
	case !t.closed[1] && t.ev.lnE[1] >= reject:
		t.outcome = MoreB
	case t.closed[0] && t.closed[1]:
		t.outcome = NoDifference
	}
}

// logRankDecision fills in what a LogRank test t found.
func (c *Comparison) logRankDecision(t *pairTest, d *Decision) {
	obsA, obsB := completeHeats(c.variants[t.a], c.variants[t.b], c.cfg.Limit)
	ev := t.ev
	if ev.sets == nil { // nothing scored yet
		ev = weigh(obsA, obsB, c.cfg.MinRatio, c.cfg.Ties)
	}
	conf := 1 - c.cfg.pairAlpha()
	d.Ratio = stats.HazardRatio(ev.sets, conf)
	e := &Evidence{
		MoreA: math.Exp(ev.lnE[0]), MoreB: math.Exp(ev.lnE[1]), Threshold: 2 / c.cfg.pairAlpha(),
		AgainstA: math.Exp(ev.lnAgainst[0]), AgainstB: math.Exp(ev.lnAgainst[1]), AcceptAt: 1 / c.cfg.Beta,
		Closed: t.closed, P: stats.CompareSurvival(obsA, obsB).P,
		TimeRatio: stats.Interval{Estimate: math.NaN(), Lower: 0, Upper: math.Inf(1)},
	}
	if len(obsA) > 0 && len(obsB) > 0 && allCrashed(obsA) && allCrashed(obsB) {
		e.TimeRatio = stats.TimeRatio(times(obsA), times(obsB), 1-c.cfg.Beta/5)
	}
	d.Evidence = e
	d.Warnings = append(d.Warnings, noCrashWarning(conf, c.variants[t.a], c.variants[t.b])...)
	for i, v := range []*variant{c.variants[t.a], c.variants[t.b]} {
		if d.Stopped[i] > 0 && d.PCrash[i].Upper-d.PCrash[i].Lower > 0.5 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s: %d of %d runs were stopped early, so p(crash within the limit) is loose",
				v.name, d.Stopped[i], d.Runs[i]))
		}
	}
}

// completeHeats returns the runs of a and b in the heats both have finished. A heat
// still running is left out whole: its run that ended first did so because it crashed
// early (or was short), and counting it before its partner would favour whichever
// variant the scheduler starts first.
func completeHeats(a, b *variant, limit float64) (obsA, obsB []stats.Observation) {
	n := min(len(a.seqs), len(b.seqs))
	for i := 0; i < n; i++ {
		ra, rb := a.seqs[i], b.seqs[i]
		if !ra.done || !rb.done {
			continue
		}
		obsA = append(obsA, stats.Observation{Crashed: ra.crashed, Time: ra.riskTime(limit)})
		obsB = append(obsB, stats.Observation{Crashed: rb.crashed, Time: rb.riskTime(limit)})
	}
	return obsA, obsB
}

// riskTime is how long r counts as at risk: to its end, or to the limit for a reproducer
// that ended clean by itself, which could not have crashed afterwards.
func (r runRecord) riskTime(limit float64) float64 {
	if r.ended && limit > r.time {
		return limit
	}
	return r.time
}

// logRankStop is StopAfter for LogRank: a run whose heat partners have all finished goes
// on to its limit unless a partner crashed, and then until StopFactor times the latest
// such crash or the end of that crash's tie window, whichever is later. The window
// matters: a run cut at its partner's very second could not crash "at the same time",
// and two variants that both crash every run would look like one that crashes and one
// that does not. Past that second the run adds little to the comparison.
func (c *Comparison) logRankStop(t Ticket) (float64, bool) {
	at, any := 0.0, false
	for _, pt := range c.tests {
		if pt.outcome != Continue || (pt.a != t.Variant && pt.b != t.Variant) {
			continue
		}
		other := c.variants[pt.a+pt.b-t.Variant]
		if len(other.seqs) < t.Seq || !other.seqs[t.Seq-1].done {
			return 0, false
		}
		p := other.seqs[t.Seq-1]
		if !p.crashed {
			return 0, false // its partner ended clean: this run is the heat's evidence
		}
		at, any = math.Max(at, math.Max(c.cfg.StopFactor*p.time, c.cfg.Ties.Span(p.time))), true
	}
	return at, any
}
