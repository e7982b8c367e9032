package bisect

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// A SetTester builds and tests the kernel in which exactly the items in set are
// changed (objects built with extra flags, config options set the bad way), at error
// share `share`.
type SetTester interface {
	Test(ctx context.Context, set []string, share float64) (StepResult, error)
}

// A SetStep is one tested set.
type SetStep struct {
	Set []string
	StepResult
}

// A SetResult is what Minimal found.
type SetResult struct {
	// Culprits are the items that must change for the crash; Exact says the search
	// narrowed them down to single items. When it stopped early (an inconclusive step),
	// Culprits are the candidates left.
	Culprits []string
	Exact    bool
	Steps    []SetStep
	VM       float64
	// Confidence is 1 − the error shares of the decided steps: the culprits are right
	// with at least this probability.
	Confidence float64
	Reason     string
}

type search struct {
	cfg     Config
	t       SetTester
	planned int
	res     SetResult
	spent   float64
	stopped string
}

// Minimal narrows items (objects, config options) down to the fewest that make the
// kernel crash when they change: the objects that need extra flags, the options that
// turn a good config into a bad one.
//
// Step one checks that the kernel with every candidate changed is bad against the one
// with none. Then, for candidates C (and items F that stay changed while C is searched),
// it tests F ∪ A for the first half A of C, then F ∪ B for the other half: the first that
// is bad is searched next. A crash is cheap evidence and "no crash" expensive, so the
// answer always rests on a bad step: a good half is never taken to mean the other is bad
// without testing it. When both halves are good, the crash needs items from both
// (several culprits together): the search finds the minimal part M of A that crashes with
// F ∪ B, checks whether F ∪ M crashes alone (a half wrongly found good would otherwise
// add innocent items), and if not finds the minimal part of B that crashes with F ∪ M.
// When a half is inconclusive and the other not bad, the search stops and reports the
// candidates it still has. Each test is a step (RunStep) with its share of the error
// budget; about 1 + 2⌈log₂ n⌉ steps are planned for n items.
func Minimal(ctx context.Context, cfg Config, objects []string, t SetTester) (SetResult, error) {
	if cfg.Confidence == 0 {
		cfg.Confidence = DefaultConfidence
	}
	s := &search{cfg: cfg, t: t, planned: 1 + 2*(ExpectedSteps(len(objects))-1)}
	objects = slices.Clone(objects)
	slices.Sort(objects)
	v, err := s.test(ctx, objects)
	if err != nil {
		return s.res, err
	}
	if v != Bad {
		s.res.Reason = fmt.Sprintf("the kernel with the flags on all %d candidates is %s against the one without", len(objects), v)
		s.res.Culprits = objects
		return s.finish(), nil
	}
	m, err := s.find(ctx, nil, objects)
	if err != nil {
		return s.res, err
	}
	s.res.Culprits = m
	s.res.Exact = s.stopped == ""
	s.res.Reason = s.stopped
	return s.finish(), nil
}

func (s *search) finish() SetResult {
	s.res.Confidence = 1 - s.spent
	return s.res
}

// test runs one step on set.
func (s *search) test(ctx context.Context, set []string) (Verdict, error) {
	share := Share(1-s.cfg.Confidence, s.planned, len(s.res.Steps)+1)
	sr, err := s.t.Test(ctx, set, share)
	if err != nil {
		return Inconclusive, err
	}
	s.res.Steps = append(s.res.Steps, SetStep{Set: set, StepResult: sr})
	s.res.VM += sr.VM
	if sr.Verdict == Good || sr.Verdict == Bad {
		s.spent += share
	}
	return sr.Verdict, nil
}

// find returns a minimal part of cands that crashes together with forced, knowing that
// forced ∪ cands crashes. After an inconclusive step it returns cands whole and sets
// s.stopped.
func (s *search) find(ctx context.Context, forced, cands []string) ([]string, error) {
	if len(cands) <= 1 || s.stopped != "" {
		return cands, nil
	}
	a, b := cands[:len(cands)/2], cands[len(cands)/2:]
	var verdicts [2]Verdict
	for i, half := range [][]string{a, b} {
		v, err := s.test(ctx, union(forced, half))
		if err != nil {
			return cands, err
		}
		if v == Bad {
			return s.find(ctx, forced, half)
		}
		verdicts[i] = v
	}
	if verdicts[0] != Good || verdicts[1] != Good {
		s.stopped = fmt.Sprintf("a step on %d candidates was %s and the other half %s: the culprits are among them",
			len(cands), verdicts[0], verdicts[1])
		return cands, nil
	}
	// Neither half alone: the crash needs objects from both.
	ma, err := s.find(ctx, union(forced, b), a)
	if err != nil || s.stopped != "" {
		return cands, err
	}
	// A half wrongly found good would make B look needed: check that it is.
	v, err := s.test(ctx, union(forced, ma))
	if err != nil {
		return cands, err
	}
	if v == Bad {
		return ma, nil
	}
	mb, err := s.find(ctx, union(forced, ma), b)
	if err != nil {
		return cands, err
	}
	return union(ma, mb), nil
}

func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Abbreviate names up to four members of a set and counts the rest, for a log line.
func Abbreviate(set []string) string {
	if len(set) <= 4 {
		return strings.Join(set, " ")
	}
	return fmt.Sprintf("%s … and %d more", strings.Join(set[:4], " "), len(set)-4)
}
