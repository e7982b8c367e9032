package sequential

import (
	"fmt"
	"math"
	"slices"

	"github.com/crashrig/crashrig/internal/stats"
)

// Record adds a finished run and advances the tests. Its Seq is the one Next handed out;
// 0 means the run was not started through Next, and it takes the lowest Seq still running
// or else a new one, so runs pair in the order recorded. Observations that arrive after a
// decision count in the totals but do not change it.
func (c *Comparison) Record(r Observation) error {
	if r.Variant < 0 || r.Variant >= len(c.variants) {
		return fmt.Errorf("result for variant %d: only %d variants", r.Variant, len(c.variants))
	}
	v := c.variants[r.Variant]
	if !(r.Exposure >= 0) || math.IsInf(r.Exposure, 0) || r.Seq < 0 {
		return fmt.Errorf("result for %s #%d: exposure %g s", v.name, r.Seq, r.Exposure)
	}
	seq := r.Seq
	if seq == 0 {
		seq = v.nextUnrecorded()
	}
	rec := v.record(seq)
	if rec.done {
		return fmt.Errorf("result for %s #%d: recorded twice", v.name, seq)
	}
	if rec.issued {
		v.inFlight--
	}
	v.free = slices.DeleteFunc(v.free, func(s int) bool { return s == seq })
	counted := r.Crashed && (c.cfg.Title == "" || r.Title == c.cfg.Title)
	*rec = runRecord{done: true, crashed: counted, time: r.Exposure, ended: r.Ended && !r.Crashed}
	c.account(v, r, counted)
	c.score(r.Variant, seq)
	return nil
}

// nextUnrecorded returns the lowest Seq handed out and not recorded, or a new Seq.
func (v *variant) nextUnrecorded() int {
	for i, rec := range v.seqs {
		if rec.issued {
			return i + 1
		}
	}
	return len(v.seqs) + 1
}

// account adds a finished run to its variant's totals and exposure clock.
func (c *Comparison) account(v *variant, r Observation, counted bool) {
	v.runs++
	if r.Stopped {
		v.stopped++
	}
	v.exposure += r.Exposure
	if counted {
		v.crashes++
		v.crashAt = append(v.crashAt, v.exposure)
	}
	v.obs = append(v.obs, stats.Observation{Crashed: counted, Time: r.Exposure, Title: r.Title, Limit: c.cfg.Limit})
	vm := r.Exposure
	if r.VMTime > 0 {
		vm = r.VMTime
	}
	v.vmTime += vm
	c.vmTime += vm
	c.runs++
}

// score feeds the evidence a new result of variant v, run seq, completes to every
// undecided test, then closes tests whose budget is spent.
func (c *Comparison) score(v, seq int) {
	for i := range c.tests {
		t := &c.tests[i]
		a, b := c.variants[t.a], c.variants[t.b]
		switch {
		case t.outcome != Continue:
			continue
		case c.cfg.FixedRuns > 0:
			if a.runs >= c.cfg.FixedRuns && b.runs >= c.cfg.FixedRuns {
				t.outcome = c.fixedOutcome(t)
			}
			continue
		case c.cfg.Method == Exposure:
			t.advanceExposure(a.crashAt, b.crashAt, a.exposure, b.exposure)
		case c.cfg.Method == LogRank:
			if v == t.a || v == t.b {
				c.scoreLogRank(t)
			}
		case v == t.a || v == t.b:
			c.scoreHeat(t, seq)
		}
		if t.outcome == Continue && c.budgetSpent() && a.inFlight+b.inFlight == 0 {
			t.outcome = Undecided
		}
	}
}

// scoreHeat feeds t the point of heat seq once both of its runs have finished.
func (c *Comparison) scoreHeat(t *pairTest, seq int) {
	a, b := c.variants[t.a], c.variants[t.b]
	if len(a.seqs) < seq || len(b.seqs) < seq || !a.seqs[seq-1].done || !b.seqs[seq-1].done {
		return
	}
	score := racePoint
	if c.cfg.Method == PerRun {
		score = perRunPoint
	}
	if p, ok := score(a.seqs[seq-1], b.seqs[seq-1]); ok {
		t.add(p)
	}
}

// StopAfter returns the second of reproducer time after which the running run t can
// stop without losing anything the undecided comparisons need, and false when it has to
// run to its limit or crash.
//
// Race: once the other runs of its heat have finished, t matters only until the last of
// them crashed or ended; a harness that stops t's VM then reports it as a clean run of
// that length. Exposure: the run needs to go on only until its variant's exposure clock
// reaches the point where crashes the other variant already had decide the test; this
// is offered only while t is its variant's only running run, and rounded up by a
// microsecond so the reported run reaches the decision. PerRun and the fixed design need
// every run to its limit.
func (c *Comparison) StopAfter(t Ticket) (seconds float64, ok bool) {
	if c.cfg.FixedRuns > 0 || c.cfg.Method == PerRun || t.Variant < 0 || t.Variant >= len(c.variants) {
		return 0, false
	}
	v := c.variants[t.Variant]
	if t.Seq < 1 || t.Seq > len(v.seqs) || !v.seqs[t.Seq-1].issued {
		return 0, false
	}
	switch c.cfg.Method {
	case Exposure:
		return c.exposureStopAfter(t.Variant)
	case LogRank:
		return c.logRankStop(t)
	}
	var partners []runRecord
	for _, pt := range c.tests {
		if pt.outcome != Continue || (pt.a != t.Variant && pt.b != t.Variant) {
			continue
		}
		other := c.variants[pt.a+pt.b-t.Variant]
		if len(other.seqs) < t.Seq {
			return 0, false
		}
		partners = append(partners, other.seqs[t.Seq-1])
	}
	return raceStop(partners)
}

// exposureStopAfter is StopAfter for the Exposure method.
func (c *Comparison) exposureStopAfter(v int) (float64, bool) {
	if c.variants[v].inFlight != 1 {
		return 0, false
	}
	at := 0.0
	for _, t := range c.tests {
		if t.outcome != Continue || (t.a != v && t.b != v) {
			continue
		}
		a, b := c.variants[t.a], c.variants[t.b]
		x, ok := t.exposureStop(v, a.crashAt, b.crashAt, a.exposure, b.exposure)
		if !ok {
			return 0, false
		}
		at = math.Max(at, x)
	}
	if at == 0 {
		return 0, false
	}
	return at - c.variants[v].exposure + 1e-6, true
}
