package campaign

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/plan"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// fakeBoot crashes with probability p at a random time within limit
// seconds, else passes at limit; it records the order of boots.
type fakeBoot struct {
	name  string
	p     float64
	limit float64
	wait  time.Duration
	mu    *sync.Mutex
	order *[]string
	rng   *rand.Rand
}

func (f *fakeBoot) Boot(ctx context.Context) (*record.Run, error) {
	f.mu.Lock()
	*f.order = append(*f.order, f.name)
	crash, at := f.rng.Float64() < f.p, f.rng.Float64()*f.limit
	f.mu.Unlock()
	select {
	case <-time.After(f.wait):
	case <-ctx.Done():
		return &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Interrupted}}, nil
	}
	if crash {
		return &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Crash, Title: "BUG", TimeToCrash: at,
			Iterations: []verdict.Iteration{{Verdict: verdict.Crash, Title: "BUG", TimeToCrash: at, Ran: at}}}, Wall: at + 1}, nil
	}
	return &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Pass,
		Iterations: []verdict.Iteration{{Verdict: verdict.Pass, Ran: f.limit}}}, Wall: f.limit + 1}, nil
}

type setup struct {
	cells []*Cell
	arms  []Arm
	order []string
	mu    sync.Mutex
}

func (s *setup) cell(c *plan.Cell, quota int, p ...float64) {
	cc := &Cell{Cell: c, Quota: quota}
	for i, pr := range p {
		name := c.ID
		if i == 1 {
			name += BaselineSuffix
		}
		cc.Arms = append(cc.Arms, len(s.arms))
		s.arms = append(s.arms, Arm{Cell: len(s.cells), Name: name, RunLength: 11 * time.Second,
			Config: record.Config{Duration: 10, Variant: name},
			Booter: &fakeBoot{name: c.ID, p: pr, limit: 10, wait: time.Millisecond, mu: &s.mu, order: &s.order,
				rng: rand.New(rand.NewPCG(uint64(len(s.arms)), 7))}})
	}
	s.cells = append(s.cells, cc)
}

func (s *setup) run(t *testing.T, jobs int, tune func(*Policy)) *Policy {
	t.Helper()
	pol, err := NewPolicy(s.cells, s.arms)
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(pol)
	}
	booters := make([]batch.Booter, len(s.arms))
	for i, a := range s.arms {
		booters[i] = a.Booter
	}
	if _, err := batch.Run(context.Background(), batch.Options{Jobs: jobs, Variants: booters, Policy: pol}); err != nil {
		t.Fatal(err)
	}
	return pol
}

func TestInterleavedAndPriorities(t *testing.T) {
	s := &setup{}
	s.cell(&plan.Cell{ID: "a", Rule: plan.RuleRuns, Runs: 4}, 4, 0)
	s.cell(&plan.Cell{ID: "b", Rule: plan.RuleRuns, Runs: 4}, 4, 0)
	s.cell(&plan.Cell{ID: "urgent", Rule: plan.RuleRuns, Runs: 2, Priority: 5}, 2, 0)
	s.run(t, 1, nil)
	want := "urgent urgent a b a b a b a b"
	if got := join(s.order); got != want {
		t.Errorf("boot order %q, want %q (priority first, then interleaved)", got, want)
	}
	for _, c := range s.cells {
		if c.Done != c.Quota || c.State() != "done" {
			t.Errorf("cell %s: %d of %d runs, %s", c.ID, c.Done, c.Quota, c.State())
		}
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestUntilCrashAndDeadline(t *testing.T) {
	s := &setup{}
	s.cell(&plan.Cell{ID: "crashy", Rule: plan.RuleUntilCrash, MaxRuns: 50}, 50, 0.5)
	s.cell(&plan.Cell{ID: "clean", Rule: plan.RuleUntilCrash, MaxRuns: 6}, 6, 0)
	s.run(t, 2, nil)
	c, d := s.cells[0], s.cells[1]
	if c.Crashes < 1 || c.Crashes > 2 || c.Done > 20 {
		t.Errorf("until-crash cell: %d crashes in %d runs; want it stopped at the first", c.Crashes, c.Done)
	}
	if d.Done != 6 || d.State() != "done" {
		t.Errorf("clean cell: %d runs, %s; want its 6", d.Done, d.State())
	}
	// A deadline closer than one run: nothing starts, and the policy says why.
	s2 := &setup{}
	s2.cell(&plan.Cell{ID: "a", Rule: plan.RuleRuns, Runs: 3}, 3, 0)
	pol := s2.run(t, 1, func(p *Policy) { p.Deadline = time.Now().Add(5 * time.Second) })
	if len(s2.order) != 0 || pol.CutBy() != "deadline" || s2.cells[0].State() != "cut short: 0 of 3 runs" {
		t.Errorf("deadline 5s away, runs of 11s: booted %v, cut by %q, %s", s2.order, pol.CutBy(), s2.cells[0].State())
	}
}

// TestCompareCell: a compare-to cell runs both arms interleaved until the
// sequential test decides, and the decision names the worse kernel.
func TestCompareCell(t *testing.T) {
	s := &setup{}
	base := &plan.Kernel{Name: "old"}
	s.cell(&plan.Cell{ID: "new/r~old", Rule: plan.RuleCompare, MaxRuns: 200, Baseline: base, MinEffect: 2}, 200, 0.9, 0.05)
	s.run(t, 2, nil)
	c := s.cells[0]
	ds := c.Decisions()
	if len(ds) != 1 || ds[0].Outcome != sequential.MoreA || !c.Finished() {
		t.Fatalf("decisions %v, finished %v; want new/r~old to crash more", ds, c.Finished())
	}
	t.Logf("%s after %d runs", c.State(), c.Done)
	if c.Done >= 200 {
		t.Errorf("%d runs: the test should decide long before its limit", c.Done)
	}
}

// TestReplayAndInterrupted: replayed runs take the place of runs to make,
// and an interrupted run is made again, never counted.
func TestReplayAndInterrupted(t *testing.T) {
	s := &setup{}
	s.cell(&plan.Cell{ID: "a", Rule: plan.RuleRuns, Runs: 5}, 5, 0)
	pol, _ := NewPolicy(s.cells, s.arms)
	for i := 0; i < 3; i++ {
		pol.Replay(0, store.RunRecord{Status: "done", Verdict: verdict.Pass, Wall: 11})
	}
	t1, ok1 := pol.Next([]int{0}, 0)
	t2, ok2 := pol.Next([]int{1}, 0)
	if _, ok := pol.Next([]int{2}, 0); !ok1 || !ok2 || ok {
		t.Fatalf("after replaying 3 of 5: got tickets %v %v and a third; want exactly 2", ok1, ok2)
	}
	pol.Observe(t1, &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Interrupted}})
	pol.Observe(t2, &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Pass}, Wall: 11})
	if _, ok := pol.Next([]int{0}, 0); !ok {
		t.Error("the interrupted run was not handed out again")
	}
	c := s.cells[0]
	if c.Done != 4 || c.Replayed != 3 {
		t.Errorf("done %d replayed %d; want 4 and 3", c.Done, c.Replayed)
	}
}

// TestInfraFailNotCounted: a boot the host failed takes no run's place, and
// a resumed batch's VM-time counts against the plan's budget.
func TestInfraFailNotCounted(t *testing.T) {
	s := &setup{}
	s.cell(&plan.Cell{ID: "a", Rule: plan.RuleRuns, Runs: 2}, 2, 0)
	pol, _ := NewPolicy(s.cells, s.arms)
	pol.Replay(0, store.RunRecord{Status: "done", Verdict: verdict.InfraFail, Wall: 3})
	t1, _ := pol.Next([]int{0}, 0)
	pol.Observe(t1, &record.Run{Outcome: verdict.Outcome{Verdict: verdict.InfraFail}, Wall: 1})
	if c := s.cells[0]; c.Done != 0 || c.Started != 0 {
		t.Errorf("after two host failures: done %d started %d, want 0 and 0", c.Done, c.Started)
	}
	pol.Budget = 5 * time.Second
	if _, ok := pol.Next([]int{0}, 2*time.Second); ok || pol.CutBy() != "budget" {
		t.Errorf("3 s replayed + 2 s spent against a 5 s budget: a run started (cut by %q)", pol.CutBy())
	}
}

// TestUntilCrashStopsOthers: once an until-crash cell has crashed, its runs
// still going are asked to stop at once.
func TestUntilCrashStopsOthers(t *testing.T) {
	s := &setup{}
	s.cell(&plan.Cell{ID: "u", Rule: plan.RuleUntilCrash, MaxRuns: 10}, 10, 1)
	pol, _ := NewPolicy(s.cells, s.arms)
	t1, _ := pol.Next([]int{0}, 0)
	t2, _ := pol.Next([]int{1}, 0)
	if _, ok := pol.StopAfter(t2); ok {
		t.Error("a run was stopped before any crash")
	}
	pol.Observe(t1, &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Crash}})
	if at, ok := pol.StopAfter(t2); !ok || at <= 0 || at > 0.001 {
		t.Errorf("after the crash: StopAfter = %v, %v; want a stop at once", at, ok)
	}
	if _, ok := pol.Next([]int{1}, 0); ok {
		t.Error("a run started after the crash")
	}
}
