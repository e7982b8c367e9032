package bisect

import (
	"context"
	"errors"
	"fmt"

	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/stats"
)

// A Role is what a run boots: the candidate of the step, or one of the two sides.
type Role int

const (
	Candidate Role = iota
	GoodSide
	BadSide
)

func (r Role) String() string {
	switch r {
	case GoodSide:
		return "good"
	case BadSide:
		return "bad"
	}
	return "candidate"
}

// A Status says whether a run produced evidence.
type Status int

const (
	OK    Status = iota // the run counts: a crash, a clean run, or a run stopped early
	Skip                // the candidate cannot be tested (it did not build or boot)
	Retry               // the host failed; the run says nothing about the kernel
)

// A Sample is one finished run.
type Sample struct {
	Status  Status  `json:"status"`
	Crashed bool    `json:"crashed,omitempty"` // a crash or a hang
	Time    float64 `json:"time"`              // reproducer seconds to the crash or to the end
	VM      float64 `json:"vm"`                // VM seconds, boot included
	Ended   bool    `json:"ended,omitempty"`   // the reproducer exited clean before the limit
	Stopped bool    `json:"stopped,omitempty"` // stopped early on request
	Title   string  `json:"title,omitempty"`
	Note    string  `json:"note,omitempty"` // why a run was skipped or retried
}

// A Runner boots one run. stopAt > 0 asks it to end the run, as a clean stopped run,
// once the reproducer has run that many seconds. An error means the runner itself could
// not go on (cancelled, misconfigured); it ends the bisection.
type Runner interface {
	Run(ctx context.Context, who Role, stopAt float64) (Sample, error)
}

// References are the runs of the good and the bad side, kept for the whole bisection.
type References struct {
	Good []Sample `json:"good"`
	Bad  []Sample `json:"bad"`
}

// A Verdict is what a step found about its candidate.
type Verdict int

const (
	Inconclusive Verdict = iota
	Good
	Bad
	Skipped
)

func (v Verdict) String() string {
	switch v {
	case Good:
		return "good"
	case Bad:
		return "bad"
	case Skipped:
		return "skip"
	}
	return "inconclusive"
}

// A StepResult is the decision of one step and what it cost.
type StepResult struct {
	Verdict Verdict
	Reason  string   // one line: the comparison that decided, or why none did
	Runs    []Sample // the candidate's runs, retried ones included
	VM      float64  // VM seconds of the step: the candidate's runs and new reference runs
	Share   float64  // the error probability the step was allowed
}

// maxRetries is how many failed boots in a row a step tolerates before it gives up
// (inconclusive: nothing is blamed); skipAfter is how many boot failures before any good
// boot skip the candidate.
const (
	maxRetries = 5
	skipAfter  = 2
)

// errRetries is returned by reference runs that failed on the host maxRetries times.
var errRetries = errors.New("host failures in a row")

// A stepper holds what one step needs.
type stepper struct {
	cfg    Config
	share  float64
	runner Runner
	refs   *References
	res    StepResult
	vsGood *sequential.Comparison
	vsBad  *sequential.Comparison
}

// RunStep tests one candidate at error share `share`: prior holds its runs from an
// earlier, interrupted attempt (they count first, in order); refs grows as the step needs
// reference runs. onRun, if set, is called after every run (for a state file).
func RunStep(ctx context.Context, cfg Config, share float64, r Runner, refs *References, prior []Sample,
	onRun func(who Role, s Sample)) (StepResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return StepResult{}, err
	}
	st := &stepper{cfg: cfg, share: share, runner: r, refs: refs, res: StepResult{Share: share}}
	mk := func(other string) (*sequential.Comparison, error) {
		// Alpha is split between the two directions: α/2 = share/2 each.
		return sequential.New(sequential.Config{Variants: []string{"candidate", other}, Alpha: share,
			Beta: share / 2, MinRatio: cfg.MinRatio, Limit: cfg.Limit})
	}
	if st.vsGood, err = mk("good"); err != nil {
		return StepResult{}, err
	}
	if st.vsBad, err = mk("bad"); err != nil {
		return StepResult{}, err
	}
	if onRun == nil {
		onRun = func(Role, Sample) {}
	}
	return st.loop(ctx, prior, onRun)
}

// loop runs heats until a comparison decides or the budget is spent.
func (st *stepper) loop(ctx context.Context, prior []Sample, onRun func(Role, Sample)) (StepResult, error) {
	retries, bootFails, heat := 0, 0, 0
	for {
		if heat >= st.cfg.StepRuns || (st.cfg.StepVMSeconds > 0 && st.res.VM >= st.cfg.StepVMSeconds) {
			st.res.Reason = fmt.Sprintf("no decision within the step's budget (%d runs, %.0f VM-s)", heat, st.res.VM)
			return st.res, nil
		}
		good, err := st.reference(ctx, GoodSide, heat, onRun)
		if err != nil {
			return st.inconclusiveOn(err)
		}
		bad, err := st.reference(ctx, BadSide, heat, onRun)
		if err != nil {
			return st.inconclusiveOn(err)
		}
		var s Sample
		if len(prior) > 0 {
			s, prior = prior[0], prior[1:]
		} else {
			stop := 0.0
			if bad.Crashed {
				stop = min(max(stopFactor*bad.Time, stats.DefaultTies.Span(bad.Time)), st.cfg.Limit)
			}
			if s, err = st.runner.Run(ctx, Candidate, stop); err != nil {
				return st.res, err
			}
			onRun(Candidate, s)
		}
		st.res.VM += s.VM
		st.res.Runs = append(st.res.Runs, s)
		switch s.Status {
		case Skip:
			// A kernel that never boots is skipped; one boot failure among good boots
			// (an early crash the console could not place, say) is only retried.
			if bootFails++; heat == 0 && bootFails >= skipAfter {
				st.res.Verdict, st.res.Reason = Skipped, fmt.Sprintf("the candidate did not boot (%d tries): %s", bootFails, s.Note)
				return st.res, nil
			}
			fallthrough
		case Retry:
			if retries++; retries >= maxRetries {
				st.res.Reason = fmt.Sprintf("%d failed boots in a row: %s", retries, s.Note)
				return st.res, nil
			}
			continue
		}
		retries = 0
		heat++
		if st.record(heat, s, good, bad) {
			return st.res, nil
		}
	}
}

func (st *stepper) inconclusiveOn(err error) (StepResult, error) {
	if errors.Is(err, errRetries) {
		st.res.Reason = err.Error()
		return st.res, nil
	}
	return st.res, err
}

// reference returns run i of a side, booting new runs as needed.
func (st *stepper) reference(ctx context.Context, who Role, i int, onRun func(Role, Sample)) (Sample, error) {
	pool := &st.refs.Good
	if who == BadSide {
		pool = &st.refs.Bad
	}
	for fails := 0; len(*pool) <= i; {
		s, err := st.runner.Run(ctx, who, 0)
		if err != nil {
			return s, err
		}
		st.res.VM += s.VM
		onRun(who, s)
		if s.Status == OK {
			*pool = append(*pool, s)
			continue
		}
		if fails++; fails >= maxRetries {
			return s, fmt.Errorf("%s side: %d %w: %s", who, fails, errRetries, s.Note)
		}
	}
	return (*pool)[i], nil
}

// record feeds heat h to both comparisons and reports whether the step is decided.
func (st *stepper) record(h int, cand, good, bad Sample) bool {
	feed := func(c *sequential.Comparison, other Sample) {
		c.Record(result(0, h, cand))
		c.Record(result(1, h, other))
	}
	feed(st.vsGood, good)
	feed(st.vsBad, bad)
	var g, b *sequential.Decision
	if st.vsGood.Done() {
		g = &st.vsGood.Decisions()[0]
	}
	if st.vsBad.Done() {
		b = &st.vsBad.Decisions()[0]
	}
	v, why := judge(g, b)
	if v == Inconclusive && why == "" {
		return false
	}
	st.res.Verdict, st.res.Reason = v, why
	return true
}

// judge turns the two comparisons into a verdict; ("", Inconclusive) means go on.
func judge(g, b *sequential.Decision) (Verdict, string) {
	var votes []Verdict
	var why []string
	if g != nil {
		switch g.Outcome {
		case sequential.MoreA:
			votes, why = append(votes, Bad), append(why, "crashes more than the good side")
		case sequential.NoDifference, sequential.MoreB:
			votes, why = append(votes, Good), append(why, "crashes no more than the good side")
		case sequential.BothAlways:
			return Inconclusive, "the good side crashes in every run: the endpoints are wrong"
		case sequential.Undecided:
		}
	}
	if b != nil {
		switch b.Outcome {
		case sequential.MoreB:
			votes, why = append(votes, Good), append(why, "crashes less than the bad side")
		case sequential.NoDifference, sequential.BothAlways, sequential.MoreA:
			votes, why = append(votes, Bad), append(why, "crashes like the bad side")
		}
	}
	switch {
	case len(votes) == 0:
		return Inconclusive, ""
	case len(votes) == 2 && votes[0] != votes[1]:
		return Inconclusive, "the comparisons disagree: it " + why[0] + " and " + why[1]
	}
	return votes[0], "it " + why[0]
}

// result turns a sample into a run of variant v, heat h.
func result(v, h int, s Sample) sequential.Observation {
	return sequential.Observation{Ticket: sequential.Ticket{Variant: v, Seq: h}, Crashed: s.Crashed, Exposure: s.Time,
		VMTime: s.VM, Title: s.Title, Stopped: s.Stopped, Ended: s.Ended && !s.Crashed}
}

// stopFactor is how far past its bad partner's crash a candidate run goes on: to twice
// that time. A bad candidate then crashes before its stop in most heats (3 in 4 for
// exponential times), which is the evidence "bad" needs; in simulation this needs 10–30 %
// fewer runs than stopping at the partner's second, for about the same VM time.
const stopFactor = 2.0
