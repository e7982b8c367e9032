package sequential

import "github.com/crashrig/crashrig/internal/stats"

// fixedDecision is the fixed design's verdict on test t: Continue until both variants
// have Config.FixedRuns results, then one test at level α for this comparison.
//
// With Race or Exposure the test is the exact conditional rate-ratio test: "A crashes
// more" when the 1−α interval on λA/λB lies above 1, "B crashes more" when it lies below
// 1, "no difference" when it lies inside (1/MinRatio, MinRatio), and Undecided otherwise.
// With PerRun it is Fisher's exact test on crashed and clean runs (two-sided p < α
// decides the direction); Fisher gives no interval, so it never says "no difference".
// The Fisher p-values are reported in both cases.
func (c *Comparison) fixedDecision(t *pairTest) Decision {
	a, b := c.variants[t.a], c.variants[t.b]
	d := c.baseDecision(t)
	d.Fixed = true
	rr := d.Rates
	d.Ratio = rr.Ratio
	f := stats.Fisher(a.crashes, a.runs, b.crashes, b.runs)
	d.Fisher = &f
	if a.runs < c.cfg.FixedRuns || b.runs < c.cfg.FixedRuns {
		return d
	}
	d.Outcome = c.fixedOutcome(t)
	d.Warnings = append(d.Warnings, rr.Warnings...)
	d.Warnings = append(d.Warnings, variantWarnings(c.cfg.Method, a, b)...)
	return d
}

// fixedOutcome is the outcome part of fixedDecision, without the hazard checks, once
// both variants have their runs.
func (c *Comparison) fixedOutcome(t *pairTest) Answer {
	a, b := c.variants[t.a], c.variants[t.b]
	alpha := c.cfg.pairAlpha()
	if c.cfg.Method == PerRun {
		return fisherOutcome(stats.Fisher(a.crashes, a.runs, b.crashes, b.runs), alpha, a, b)
	}
	rr := stats.CompareRates(a.crashes, a.exposure, b.crashes, b.exposure, 1-alpha)
	return intervalOutcome(rr.Ratio, c.cfg.MinRatio)
}

// intervalOutcome reads a verdict off an interval on λA/λB.
func intervalOutcome(iv stats.Interval, minRatio float64) Answer {
	switch {
	case iv.Lower > 1:
		return MoreA
	case iv.Upper < 1:
		return MoreB
	case iv.Lower > 1/minRatio && iv.Upper < minRatio:
		return NoDifference
	}
	return Undecided
}

// fisherOutcome reads a verdict off Fisher's test.
func fisherOutcome(f stats.FisherExact, alpha float64, a, b *variant) Answer {
	if f.TwoSided >= alpha {
		return Undecided
	}
	if float64(a.crashes)/float64(a.runs) > float64(b.crashes)/float64(b.runs) {
		return MoreA
	}
	return MoreB
}
