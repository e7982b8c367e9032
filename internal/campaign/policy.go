// Package campaign runs the cells of a plan (package plan) as one batch,
// recorded as one store session (crashrig batch).
//
// Prepare turns a plan's cells into arms, each with its prepared run plan.
// A Batch begins a session or continues the last unfinished one (replaying
// its finished runs, explaining a changed plan), runs it, and records each
// cell's state at the end. Its Policy, for package batch, keeps every VM
// slot busy, interleaves cells so that a deadline leaves each with
// comparable evidence, applies each cell's stop rule (a run count, the first
// crash, or the sequential decision of crashrig compare), and respects
// budgets, the deadline and priorities. A LogRecorder keeps the console logs
// within a disk budget. Out of scope: flags, output files and rendering
// (cmd/crashrig and package report).
package campaign

import (
	"fmt"
	"sort"
	"time"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/compare"
	"github.com/crashrig/crashrig/internal/plan"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// An Arm is one configuration a cell boots: a cell has one, a comparison
// two (the cell's own kernel, then the baseline's).
type Arm struct {
	Cell      int
	Name      string // the run's variant in the database: the cell ID, or ID + BaselineSuffix
	Config    record.Config
	Booter    batch.Booter
	RunLength time.Duration // expected VM-time of one run, before any finished
}

// BaselineSuffix marks the baseline arm of a comparison cell.
const BaselineSuffix = report.BaselineSuffix

// A Cell is one plan cell as the batch sees it.
type Cell struct {
	*plan.Cell
	Arms  []int  // indexes into Policy.Arms
	Quota int    // runs this shard makes (RuleRuns) or may make (the others); 0 = not this shard's
	Skip  string // why the cell does not run at all ("" = it runs)

	Started, Done, Crashes int // this session's runs, replayed ones included
	Spent                  time.Duration
	Decision               *sequential.Decision // compare-to cells, once decided
	Replayed               int                  // finished runs found in the database
	cmp                    *sequential.Comparison
	pol                    batch.Policy
	walls                  []float64
}

// Finished reports whether the cell's stop rule is met.
func (c *Cell) Finished() bool {
	switch {
	case c.Skip != "":
		return true
	case c.Rule == plan.RuleCompare:
		return c.cmp != nil && c.cmp.Done()
	case c.Rule == plan.RuleUntilCrash && c.Crashes > 0:
		return true
	}
	return c.Done >= c.Quota
}

// State is a short account of the cell ("done", "decided: …", "4 of 10
// runs", "skipped: …").
func (c *Cell) State() string {
	switch {
	case c.Skip != "":
		return "skipped: " + c.Skip
	case c.Rule == plan.RuleCompare && c.cmp != nil && c.cmp.Done():
		d := c.cmp.Decisions()[0]
		if d.Outcome == sequential.Undecided {
			return fmt.Sprintf("undecided after %d runs (budget)", c.Done)
		}
		return "decided: " + d.Headline()
	case c.Rule == plan.RuleUntilCrash && c.Crashes > 0:
		return fmt.Sprintf("done: crashed after %d runs", c.Done)
	case c.Done >= c.Quota:
		return "done"
	}
	return fmt.Sprintf("cut short: %d of %d runs", c.Done, c.Quota)
}

// A Policy schedules the cells of a batch; it implements batch.Policy and
// batch.EarlyStopper.
type Policy struct {
	Cells    []*Cell
	Arms     []Arm
	Budget   time.Duration // VM-time of the whole batch (0 = none)
	Deadline time.Time     // no run starts that cannot end by then (zero = none)
	Now      func() time.Time

	cutBy       string        // "deadline" or "budget" once one of them stopped a run from starting
	spentBefore time.Duration // VM-time of the replayed runs: the budget covers the whole batch
}

// NewPolicy builds the policy; comparison cells get their sequential test.
func NewPolicy(cells []*Cell, arms []Arm) (*Policy, error) {
	p := &Policy{Cells: cells, Arms: arms, Now: time.Now}
	for _, c := range cells {
		if c.Rule != plan.RuleCompare || c.Quota == 0 {
			continue
		}
		a := arms[c.Arms[0]]
		cmp, err := sequential.New(sequential.Config{Variants: []string{c.ID, c.Baseline.Name}, MinRatio: c.MinEffect,
			Method: sequential.LogRank, MaxRuns: c.Quota, MaxVMSeconds: c.Budget.Seconds(), Limit: a.Config.Duration})
		if err != nil {
			return nil, fmt.Errorf("cell %s: %w", c.ID, err)
		}
		c.cmp, c.pol = cmp, compare.Policy(cmp)
	}
	return p, nil
}

// Replay counts a finished run found in the database for arm (a resumed
// batch): it takes the place of one run the cell would make. A run the host
// failed (infra-fail) says nothing about the kernel and takes no place.
func (p *Policy) Replay(arm int, r store.RunRecord) {
	a := p.Arms[arm]
	c := p.Cells[a.Cell]
	p.spentBefore += time.Duration(r.Wall * float64(time.Second))
	if r.Verdict == verdict.InfraFail {
		return
	}
	c.Replayed++
	c.Started++
	c.Done++
	c.Spent += time.Duration(r.Wall * float64(time.Second))
	c.walls = append(c.walls, r.Wall)
	if r.Verdict == verdict.Crash {
		c.Crashes++
	}
	if c.cmp != nil {
		for _, res := range compare.StoredResults(armIndex(c, arm), r) {
			c.cmp.Record(res)
		}
	}
}

func armIndex(c *Cell, arm int) int {
	for i, a := range c.Arms {
		if a == arm {
			return i
		}
	}
	return 0
}

// CutBy says what stopped runs from starting before every cell finished:
// "deadline", "budget" or "".
func (p *Policy) CutBy() string { return p.cutBy }

// runLength is the expected VM-time of the cell's next run: the mean of
// its finished runs, else the plan's estimate.
func (p *Policy) runLength(c *Cell) time.Duration {
	if len(c.walls) == 0 {
		return p.Arms[c.Arms[0]].RunLength
	}
	s := 0.0
	for _, w := range c.walls {
		s += w
	}
	return time.Duration(s / float64(len(c.walls)) * float64(time.Second))
}

// order is the cells in the order they get the next slot: higher priority
// first, then the cell with the fewest runs started (so cells advance
// together), then plan order.
func (p *Policy) order() []*Cell {
	cs := append([]*Cell(nil), p.Cells...)
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.Started < b.Started
	})
	return cs
}

// Next implements batch.Policy.
func (p *Policy) Next(inFlight []int, spent time.Duration) (batch.Ticket, bool) {
	spent += p.spentBefore
	if p.Budget > 0 && spent >= p.Budget {
		p.cutBy = "budget"
		return batch.Ticket{}, false
	}
	for _, c := range p.order() {
		if c.Finished() || c.Quota == 0 {
			continue
		}
		if c.Budget > 0 && c.Spent >= c.Budget && c.Rule != plan.RuleCompare {
			continue
		}
		if !p.Deadline.IsZero() && p.Now().Add(p.runLength(c)).After(p.Deadline) {
			p.cutBy = "deadline"
			continue
		}
		if t, ok := p.next(c, inFlight); ok {
			return t, true
		}
	}
	return batch.Ticket{}, false
}

func (p *Policy) next(c *Cell, inFlight []int) (batch.Ticket, bool) {
	if c.pol != nil {
		t, ok := c.pol.Next(nil, 0)
		if !ok {
			return t, false
		}
		c.Started++
		return batch.Ticket{Variant: c.Arms[t.Variant], Seq: t.Seq}, true
	}
	running := inFlight[c.Arms[0]]
	if c.Started >= c.Quota || c.Rule == plan.RuleUntilCrash && c.Crashes > 0 {
		return batch.Ticket{}, false
	}
	_ = running
	c.Started++
	return batch.Ticket{Variant: c.Arms[0], Seq: c.Started}, true
}

// Observe implements batch.Policy. An interrupted run hands its place back:
// it is never counted, and the batch (or a resumed one) runs it again. So
// does a run the host failed (infra-fail): it is the host's outcome, not the
// kernel's; package batch ends a batch whose host fails every boot.
func (p *Policy) Observe(t batch.Ticket, r *record.Run) bool {
	c := p.Cells[p.Arms[t.Variant].Cell]
	if c.pol != nil {
		c.pol.Observe(batch.Ticket{Variant: armIndex(c, t.Variant), Seq: t.Seq}, r)
	}
	if r.Verdict == verdict.Interrupted || r.Verdict == verdict.InfraFail {
		c.Started--
		c.Spent += time.Duration(r.Wall * float64(time.Second))
		return false
	}
	c.Done++
	c.Spent += time.Duration(r.Wall * float64(time.Second))
	c.walls = append(c.walls, r.Wall)
	if r.Verdict == verdict.Crash {
		c.Crashes++
	}
	return false
}

// StopAfter implements batch.EarlyStopper: the runs of an until-crash cell
// that has crashed stop at once (recorded as stopped, censored where they
// stopped, never passes), and comparison cells stop runs as crashrig compare
// does.
func (p *Policy) StopAfter(t batch.Ticket) (float64, bool) {
	c := p.Cells[p.Arms[t.Variant].Cell]
	if c.Rule == plan.RuleUntilCrash && c.Crashes > 0 {
		return stopNow, true
	}
	es, ok := c.pol.(batch.EarlyStopper)
	if !ok {
		return 0, false
	}
	return es.StopAfter(batch.Ticket{Variant: armIndex(c, t.Variant), Seq: t.Seq})
}

// stopNow is the reproducer time to stop a run at once (run.Control takes 0
// as "never").
const stopNow = 1e-6

// Decisions returns the decisions of comparison cells (undecided ones too).
func (c *Cell) Decisions() []sequential.Decision {
	if c.cmp == nil {
		return nil
	}
	return c.cmp.Decisions()
}
