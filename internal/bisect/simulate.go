package bisect

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// A Law is the time to crash of simulated runs of one kernel: with probability Reproduce
// (0 = 1) a run can crash, at a Weibull time of shape Shape (0 = 1, exponential; +Inf = at
// Mean every time) and mean Mean seconds; otherwise it never crashes. Mean = +Inf never
// crashes.
type Law struct {
	Mean      float64
	Shape     float64
	Reproduce float64
}

// Never is a kernel that never crashes.
var Never = Law{Mean: math.Inf(1)}

func (l Law) String() string {
	if math.IsInf(l.Mean, 1) {
		return "never"
	}
	s := fmt.Sprintf("exp(%gs)", l.Mean)
	switch k := l.shape(); {
	case math.IsInf(k, 1):
		s = fmt.Sprintf("fixed(%gs)", l.Mean)
	case k != 1:
		s = fmt.Sprintf("weibull(k=%g, %gs)", k, l.Mean)
	}
	if l.Reproduce > 0 && l.Reproduce < 1 {
		s = fmt.Sprintf("%s in %.0f%% of runs", s, 100*l.Reproduce)
	}
	return s
}

func (l Law) shape() float64 {
	if l.Shape == 0 {
		return 1
	}
	return l.Shape
}

// Sample draws one time to crash (+Inf = never).
func (l Law) Sample(rng *rand.Rand) float64 {
	if math.IsInf(l.Mean, 1) || (l.Reproduce > 0 && rng.Float64() >= l.Reproduce) {
		return math.Inf(1)
	}
	k := l.shape()
	if math.IsInf(k, 1) {
		return l.Mean * (1 + 0.05*(2*rng.Float64()-1))
	}
	return l.Mean / math.Gamma(1+1/k) * math.Pow(rng.ExpFloat64(), 1/k)
}

// A Scenario is a simulated linear history: candidates 1..N, the first bad one drawn
// uniformly for every bisection; candidates from it on crash by Bad, the others by Good.
type Scenario struct {
	Name      string
	N         int
	Good, Bad Law
	Limit     float64 // run length, seconds
	Boot      float64 // VM seconds per run before the reproducer starts
	BuildFail float64 // probability a candidate (not an end) fails to build: skipped, no VM time
	BootFail  float64 // probability a candidate (not an end) builds a kernel that never boots
	InfraFail float64 // probability any run fails on the host (retried)
}

// A Policy is how each step is decided in a simulation.
type Policy int

const (
	Sequential Policy = iota // RunStep with the error budget
	Fixed10                  // syzkaller's: 10 runs to the limit, one crash means bad
)

func (p Policy) String() string {
	if p == Fixed10 {
		return "fixed 10 runs"
	}
	return "sequential"
}

// A SimResult summarizes many simulated bisections.
type SimResult struct {
	Reps         int
	Correct      int     // named the true culprit
	Wrong        int     // named another culprit, or a range without it
	Inconclusive int     // a range holding the culprit, or no start
	MeanVM       float64 // VM seconds per bisection
	P95VM        float64
	MeanSteps    float64
	MeanRuns     float64 // runs per bisection, all roles
}

// Rate returns n/Reps.
func (r SimResult) Rate(n int) float64 { return float64(n) / float64(r.Reps) }

// Simulate runs reps bisections of sc with policy p and cfg, from seed.
func Simulate(cfg Config, sc Scenario, p Policy, reps int, seed uint64) (SimResult, error) {
	cfg.Limit = sc.Limit
	if _, err := cfg.withDefaults(); err != nil {
		return SimResult{}, err
	}
	if sc.N < 1 {
		return SimResult{}, fmt.Errorf("scenario %q: %d candidates", sc.Name, sc.N)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc909))
	res := SimResult{Reps: reps}
	vms := make([]float64, 0, reps)
	for range reps {
		t := newSimTester(cfg, sc, p, rng)
		r, err := Linear(context.Background(), cfg, sc.N, t)
		if err != nil {
			return res, err
		}
		switch {
		case r.Found() && r.First == t.culprit:
			res.Correct++
		case r.First > 0 && r.First <= t.culprit && t.culprit <= r.Last && !r.Found():
			res.Inconclusive++
		case r.First == 0:
			res.Inconclusive++
		default:
			res.Wrong++
		}
		vms = append(vms, r.VM)
		res.MeanVM += r.VM / float64(reps)
		res.MeanSteps += float64(len(r.Steps)) / float64(reps)
		res.MeanRuns += float64(t.runs) / float64(reps)
	}
	sort.Float64s(vms)
	if reps > 0 {
		res.P95VM = vms[int(math.Ceil(0.95*float64(reps)))-1]
	}
	return res, nil
}

// simTester is one simulated history.
type simTester struct {
	cfg       Config
	sc        Scenario
	policy    Policy
	rng       *rand.Rand
	culprit   int
	noBuild   map[int]bool
	noBoot    map[int]bool
	refs      References
	candidate int // the candidate the runner boots
	runs      int
}

func newSimTester(cfg Config, sc Scenario, p Policy, rng *rand.Rand) *simTester {
	t := &simTester{cfg: cfg, sc: sc, policy: p, rng: rng, culprit: 1 + rng.IntN(sc.N),
		noBuild: map[int]bool{}, noBoot: map[int]bool{}}
	for i := 1; i < sc.N; i++ {
		t.noBuild[i] = rng.Float64() < sc.BuildFail
		t.noBoot[i] = rng.Float64() < sc.BootFail
	}
	return t
}

func (t *simTester) Test(ctx context.Context, i int, share float64) (StepResult, error) {
	if t.noBuild[i] {
		return StepResult{Verdict: Skipped, Reason: "the build failed", Share: share}, nil
	}
	t.candidate = i
	if t.policy == Fixed10 {
		return t.fixed(ctx)
	}
	return RunStep(ctx, t.cfg, share, t, &t.refs, nil, nil)
}

// fixed is syzkaller's policy: 10 runs, each to the limit unless it crashes; one crash
// is bad. Boot failures skip; host failures are run again.
func (t *simTester) fixed(ctx context.Context) (StepResult, error) {
	var sr StepResult
	for n := 0; n < 10; {
		s, _ := t.Run(ctx, Candidate, 0)
		sr.VM += s.VM
		sr.Runs = append(sr.Runs, s)
		switch s.Status {
		case Skip:
			sr.Verdict = Skipped
			return sr, nil
		case Retry:
			continue
		}
		n++
		if s.Crashed {
			sr.Verdict = Bad
		}
	}
	if sr.Verdict != Bad {
		sr.Verdict = Good
	}
	return sr, nil
}

// Run implements Runner on the simulated history.
func (t *simTester) Run(_ context.Context, who Role, stopAt float64) (Sample, error) {
	t.runs++
	i := t.candidate
	switch who {
	case GoodSide:
		i = 0
	case BadSide:
		i = t.sc.N
	}
	if t.rng.Float64() < t.sc.InfraFail {
		return Sample{Status: Retry, VM: t.sc.Boot, Note: "simulated host failure"}, nil
	}
	if who == Candidate && t.noBoot[i] {
		return Sample{Status: Skip, VM: t.sc.Boot, Note: "simulated boot failure"}, nil
	}
	law := t.sc.Good
	if i >= t.culprit {
		law = t.sc.Bad
	}
	end := t.sc.Limit
	if stopAt > 0 && stopAt < end {
		end = stopAt
	}
	if c := law.Sample(t.rng); c < end {
		return Sample{Crashed: true, Time: c, VM: t.sc.Boot + c}, nil
	}
	return Sample{Time: end, VM: t.sc.Boot + end, Stopped: end < t.sc.Limit}, nil
}
