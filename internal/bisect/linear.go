package bisect

import (
	"context"
	"fmt"
)

// A Tester tests candidate i of a linear history (1 ≤ i < n; 0 is the good end, n the
// bad end) at error share `share`, with i = n meaning the check of the bad end itself.
type Tester interface {
	Test(ctx context.Context, i int, share float64) (StepResult, error)
}

// A Step is one step of a linear bisection.
type Step struct {
	Index int // the candidate tested
	StepResult
}

// A Result is the end of a bisection.
type Result struct {
	// First and Last bound the culprit: the first bad candidate is one of First..Last
	// (1 ≤ First ≤ Last ≤ n). First == Last names it; 0 means the bisection could not
	// start (the bad end did not prove bad).
	First, Last int
	Steps       []Step
	VM          float64 // VM seconds of all steps
	// Spent is the error probability the decided steps were allowed: the culprit is
	// right with probability at least 1 − Spent.
	Spent  float64
	Reason string // why the culprit is not one candidate, if it is not
}

// Found reports whether the bisection named one culprit.
func (r Result) Found() bool { return r.First > 0 && r.First == r.Last }

// Linear bisects candidates 1..n of a linear history, 0 known good and n known bad. It
// first checks that n is bad against 0, then halves the range; a skipped or inconclusive
// candidate is left out and the untested candidate nearest the middle is tried instead.
func Linear(ctx context.Context, cfg Config, n int, t Tester) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	total := 1 - cfg.Confidence
	planned := ExpectedSteps(n)
	res := Result{}
	step := func(i int) (Verdict, error) {
		share := Share(total, planned, len(res.Steps)+1)
		sr, err := t.Test(ctx, i, share)
		if err != nil {
			return Inconclusive, err
		}
		res.Steps = append(res.Steps, Step{Index: i, StepResult: sr})
		res.VM += sr.VM
		if sr.Verdict == Good || sr.Verdict == Bad {
			res.Spent += share
		}
		return sr.Verdict, nil
	}
	v, err := step(n)
	if err != nil {
		return res, err
	}
	if v != Bad {
		res.Reason = fmt.Sprintf("the bad end is %s against the good end", v)
		return res, nil
	}
	lo, hi := 0, n // lo good, hi bad
	out := map[int]bool{}
	for hi-lo > 1 {
		i := middle(lo, hi, out)
		if i < 0 {
			res.Reason = "every candidate between the last good and the first bad was skipped or inconclusive"
			break
		}
		v, err := step(i)
		if err != nil {
			return res, err
		}
		switch v {
		case Good:
			lo = i
		case Bad:
			hi = i
		default:
			out[i] = true
		}
	}
	res.First, res.Last = lo+1, hi
	return res, nil
}

// middle returns the candidate strictly between lo and hi nearest their middle and not
// left out, or −1.
func middle(lo, hi int, out map[int]bool) int {
	m := (lo + hi) / 2
	for d := 0; d < hi-lo; d++ {
		for _, i := range []int{m - d, m + d + 1} {
			if i > lo && i < hi && !out[i] {
				return i
			}
		}
	}
	return -1
}
