package sequential

import (
	"fmt"
	"math"
	"strings"

	"github.com/crashrig/crashrig/internal/stats"
)

// An Answer is where one comparison of A with B stands.
type Answer int

const (
	Continue     Answer = iota // no decision yet: keep running
	MoreA                      // A crashes more than B
	MoreB                      // B crashes more than A
	NoDifference               // no difference of MinRatio or more
	Undecided                  // the budget ran out, or the fixed runs could not tell
	BothAlways                 // both crashed in every run: neither crashes more
)

// Word is the outcome as one stable word for machine output: a-more, b-more,
// no-difference, both-always, undecided or running.
func (o Answer) Word() string {
	switch o {
	case MoreA:
		return "a-more"
	case MoreB:
		return "b-more"
	case NoDifference:
		return "no-difference"
	case BothAlways:
		return "both-always"
	case Undecided:
		return "undecided"
	}
	return "running"
}

func (o Answer) String() string {
	switch o {
	case MoreA:
		return "A crashes more than B"
	case MoreB:
		return "B crashes more than A"
	case NoDifference:
		return "no difference of that size"
	case Undecided:
		return "undecided within the budget"
	case BothAlways:
		return "both crash every run"
	}
	return "continue"
}

// A Decision is the state of one comparison of A (Config.Variants[0]) with B (another
// variant): its outcome, the estimated ratio and the data behind it.
type Decision struct {
	A, B     string // variant names
	Outcome  Answer
	Method   Method
	Fixed    bool    // decided by the fixed design, not the sequential test
	MinRatio float64 // the difference the test was set up to find

	// Ratio is A relative to B as the test sees it, from its points with a Clopper–Pearson
	// interval at level Ratio.Conf = 1 − α for this comparison: the hazard ratio (Race),
	// the crash rate ratio over the common exposure (Exposure) or the odds ratio of
	// crashing within a run (PerRun). The fixed design gives the rate ratio over all runs.
	// After a sequential stop the interval is nominal: it is computed as for a fixed
	// sample, and a test that stopped early tends to overstate the difference.
	Ratio stats.Interval

	// Rates compares the censored exponential crash rates over all finished runs, for
	// reports (MTTC per variant follows from Crashes and Exposure).
	Rates stats.RateRatio

	Runs     [2]int     // runs of A and B
	Crashes  [2]int     // crashes counted (with Config.Title, only that title)
	Exposure [2]float64 // reproducer seconds
	VMTime   float64    // seconds of VM time for A and B together (boot included if reported)
	VMTimes  [2]float64 // the same for A and for B

	// Points counts the evidence of the sequential test: heats won by A and by B (Race),
	// crashes of A and of B inside the exposure both covered (Exposure), or run pairs
	// where only A or only B crashed (PerRun). LLR holds the log-likelihood ratios of
	// "A crashes more" and "B crashes more"; each stops at ln((1−β)/(α/2)) or
	// ln(β/(1−α/2)).
	Points [2]int
	LLR    [2]float64

	Fisher *stats.FisherExact // crashed/clean runs, in the fixed design

	// Evidence is what the LogRank method weighed (nil for the other methods).
	Evidence *Evidence

	// PCrash is p(crash within the limit) of A and B from the Kaplan–Meier curve of their
	// finished runs, which counts a stopped run as far as it ran; Median is the median
	// time to crash (+Inf when fewer than half crashed); Stopped counts the runs the
	// comparison stopped early (censored where they stopped).
	PCrash  [2]stats.Interval
	Median  [2]float64
	Stopped [2]int

	Warnings []string
}

// An Evidence is the state of the LogRank method's two one-sided tests. An e-value of x
// means data this extreme happen with probability at most 1/x if the variants crash
// alike, whenever one looks; the test decides at Threshold = 2/α.
type Evidence struct {
	MoreA, MoreB float64 // mixture e-values of "A crashes more" and "B crashes more"
	Threshold    float64 // 2/α for this comparison
	// AgainstA and AgainstB are the likelihood ratios of "no difference" against a
	// MinRatio difference towards A and towards B; a direction closes at AcceptAt = 1/β.
	AgainstA, AgainstB float64
	AcceptAt           float64
	Closed             [2]bool // the direction can no longer be decided
	// P is the two-sided log-rank p-value on the same runs, at a single look: for
	// reference only (the decision is the e-values').
	P float64
	// TimeRatio is B's geometric mean time to crash over A's, with its 1−β/5 interval,
	// when both crashed in every run: above 1, A crashes sooner. Its estimate is NaN
	// otherwise.
	TimeRatio stats.Interval
}

// String renders the decision as one line, e.g.
// "v6.1 crashes more than v6.2: hazard ratio ∞ [3, ∞] at 95% (13 vs 0 crashes, 1.56e+03 VM-s)".
func (d Decision) String() string {
	var head string
	switch d.Outcome {
	case MoreA:
		head = fmt.Sprintf("%s crashes more than %s", d.A, d.B)
	case MoreB:
		head = fmt.Sprintf("%s crashes more than %s", d.B, d.A)
	case NoDifference:
		head = fmt.Sprintf("no difference of %g× between %s and %s", d.MinRatio, d.A, d.B)
	case BothAlways:
		return d.bothAlways()
	case Undecided:
		head = fmt.Sprintf("%s vs %s undecided within the budget", d.A, d.B)
	default:
		head = fmt.Sprintf("%s vs %s running", d.A, d.B)
	}
	return fmt.Sprintf("%s: %s %s at %s (%d vs %d crashes, %.3g VM-s)", head, d.Effect(),
		d.Ratio.Format(2), stats.Percent(d.Ratio.Conf), d.Crashes[0], d.Crashes[1], d.VMTime)
}

// Headline says a decision in the variants' own names, without its numbers, e.g. "new
// crashes more than old".
func (d Decision) Headline() string {
	switch d.Outcome {
	case MoreA:
		return fmt.Sprintf("%s crashes more than %s", d.A, d.B)
	case MoreB:
		return fmt.Sprintf("%s crashes more than %s", d.B, d.A)
	case NoDifference:
		return fmt.Sprintf("%s and %s: no difference of ×%g or more", d.A, d.B, d.MinRatio)
	case Undecided:
		return fmt.Sprintf("%s vs %s: undecided within the budget", d.A, d.B)
	case BothAlways:
		return d.bothAlways()
	}
	return fmt.Sprintf("%s vs %s: not decided yet", d.A, d.B)
}

// bothAlways describes a BothAlways decision, e.g. "A and B both crash every run (5 and 5
// runs); time to crash 1.1s vs 1.14s".
func (d Decision) bothAlways() string {
	s := fmt.Sprintf("%s and %s both crash every run (%d and %d runs); time to crash %.3gs vs %.3gs", d.A, d.B,
		d.Runs[0], d.Runs[1], d.Median[0], d.Median[1])
	if e := d.Evidence; e != nil && !math.IsNaN(e.TimeRatio.Estimate) {
		s += fmt.Sprintf(" (ratio %.3g [%.3g, %.3g], inside ×%g either way)", e.TimeRatio.Estimate, e.TimeRatio.Lower,
			e.TimeRatio.Upper, d.MinRatio)
	}
	return s
}

// Effect names what Ratio measures: "hazard ratio", "rate ratio" or "odds ratio".
func (d Decision) Effect() string {
	switch {
	case d.Fixed:
		return "rate ratio"
	case d.Method == Race || d.Method == LogRank:
		return "hazard ratio"
	case d.Method == PerRun:
		return "odds ratio"
	}
	return "rate ratio"
}

// pointRatio turns nA points of A and nB of B into a ratio with an interval: a point is
// A's with probability R/(1+R), so a Clopper–Pearson interval on that proportion maps to
// one on R.
func pointRatio(nA, nB int, conf float64) stats.Interval {
	if nA+nB == 0 {
		return stats.Interval{Estimate: math.NaN(), Lower: 0, Upper: math.Inf(1), Conf: conf}
	}
	p := stats.ClopperPearson(nA, nA+nB, conf)
	odds := func(x float64) float64 {
		if x >= 1 {
			return math.Inf(1)
		}
		return x / (1 - x)
	}
	return stats.Interval{Estimate: odds(p.Estimate), Lower: odds(p.Lower), Upper: odds(p.Upper), Conf: conf}
}

// Decisions returns one Decision per comparison of Variants[0] with Variants[i], i ≥ 1.
func (c *Comparison) Decisions() []Decision {
	var out []Decision
	for i := range c.tests {
		out = append(out, c.decision(&c.tests[i]))
	}
	return out
}

// decision assembles the Decision of test t.
func (c *Comparison) decision(t *pairTest) Decision {
	if c.cfg.FixedRuns > 0 {
		return c.fixedDecision(t)
	}
	a, b := c.variants[t.a], c.variants[t.b]
	d := c.baseDecision(t)
	d.Outcome = t.outcome
	if c.cfg.Method == LogRank {
		c.logRankDecision(t, &d)
		return d
	}
	d.Points = [2]int{t.nA, t.nB}
	d.LLR = [2]float64{t.more.llr, t.less.llr}
	d.Ratio = pointRatio(t.nA, t.nB, 1-c.cfg.pairAlpha())
	if c.cfg.Method == Exposure {
		d.Warnings = append(d.Warnings, balanceWarning(a, b)...)
	}
	d.Warnings = append(d.Warnings, noCrashWarning(d.Ratio.Conf, a, b)...)
	d.Warnings = append(d.Warnings, variantWarnings(c.cfg.Method, a, b)...)
	return d
}

// baseDecision fills the fields every Decision of t shares.
func (c *Comparison) baseDecision(t *pairTest) Decision {
	a, b := c.variants[t.a], c.variants[t.b]
	conf := 1 - c.cfg.pairAlpha()
	d := Decision{
		A: a.name, B: b.name, Method: c.cfg.Method, MinRatio: c.cfg.MinRatio,
		Rates:    stats.CompareRates(a.crashes, a.exposure, b.crashes, b.exposure, conf),
		Runs:     [2]int{a.runs, b.runs},
		Crashes:  [2]int{a.crashes, b.crashes},
		Exposure: [2]float64{a.exposure, b.exposure},
		VMTime:   a.vmTime + b.vmTime,
		VMTimes:  [2]float64{a.vmTime, b.vmTime},
		Stopped:  [2]int{a.stopped, b.stopped},
	}
	for i, v := range []*variant{a, b} {
		s := stats.Summarize(v.obs, conf)
		d.Median[i], d.PCrash[i] = s.Survival.Quantile(0.5), s.PCrash
	}
	return d
}

// variantWarnings reports what the hazard check of each variant means for the method.
func variantWarnings(method Method, vs ...*variant) []string {
	var w []string
	for _, v := range vs {
		h := stats.CheckHazard(v.obs)
		if method == Exposure && h.Trend != stats.TrendConstant && h.Trend != stats.TrendUnknown {
			w = append(w, fmt.Sprintf("%s: the exposure test assumes a constant hazard and its error rates "+
				"do not hold here; rerun with the race method (or per-run with a run limit ≥ %s)",
				v.name, stats.FormatSeconds(h.P95)))
		}
		for _, hw := range h.Warnings {
			w = append(w, v.name+": "+hw)
		}
	}
	return w
}

// balanceWarning notes when one variant got much more exposure than the other: the
// exposure race only uses the time both covered.
func balanceWarning(a, b *variant) []string {
	lo, hi := math.Min(a.exposure, b.exposure), math.Max(a.exposure, b.exposure)
	if lo > 0 && hi > 2*lo {
		return []string{fmt.Sprintf("exposure is unbalanced (%s: %s, %s: %s): the sequential test used the common %s",
			a.name, stats.FormatSeconds(a.exposure), b.name, stats.FormatSeconds(b.exposure), stats.FormatSeconds(lo))}
	}
	return nil
}

// noCrashWarning is set when neither variant crashed: the ratio is unknown, but each rate
// has an upper bound.
func noCrashWarning(conf float64, vs ...*variant) []string {
	var parts []string
	for _, v := range vs {
		if v.crashes > 0 || v.exposure == 0 {
			return nil
		}
		r := stats.Exponential(0, v.exposure, conf)
		parts = append(parts, fmt.Sprintf("%s < %.3g per hour", v.name, stats.PerHour(r.Rate.Upper)))
	}
	return []string{"neither variant crashed: the ratio is unknown; rates " + strings.Join(parts, ", ")}
}
