package sequential

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// A Distribution is the time to crash of simulated runs: Weibull with shape Shape and mean
// Mean seconds. Shape 1 is the exponential (constant hazard), Shape 2 a hazard that grows
// during a run, Shape 0.5 "early or never", Shape +Inf a crash at Mean every run (give or
// take Jitter). Mean = +Inf never crashes.
type Distribution struct {
	Mean   float64 // seconds; +Inf = never crashes
	Shape  float64 // Weibull shape k (0 = 1); +Inf = deterministic
	Jitter float64 // deterministic only: times spread uniformly over Mean·(1 ± Jitter)
}

// Fixed returns a crash at t seconds in every run, spread by ± jitter (a fraction of t).
func Fixed(t, jitter float64) Distribution {
	return Distribution{Mean: t, Shape: math.Inf(1), Jitter: jitter}
}

// Exp returns the exponential distribution with the given mean in seconds.
func Exp(mean float64) Distribution { return Distribution{Mean: mean, Shape: 1} }

// Weibull returns the Weibull distribution with shape k and the given mean in seconds.
func Weibull(k, mean float64) Distribution { return Distribution{Mean: mean, Shape: k} }

// Never is a variant that never crashes.
func Never() Distribution { return Distribution{Mean: math.Inf(1), Shape: 1} }

func (d Distribution) shape() float64 {
	if d.Shape == 0 {
		return 1
	}
	return d.Shape
}

// scale is the Weibull scale η with mean η·Γ(1 + 1/k).
func (d Distribution) scale() float64 { return d.Mean / math.Gamma(1+1/d.shape()) }

func (d Distribution) String() string {
	if math.IsInf(d.Mean, 1) {
		return "never"
	}
	if d.shape() == 1 {
		return fmt.Sprintf("exp(%gs)", d.Mean)
	}
	if math.IsInf(d.shape(), 1) {
		return fmt.Sprintf("fixed(%gs ± %g%%)", d.Mean, 100*d.Jitter)
	}
	return fmt.Sprintf("weibull(k=%g, %gs)", d.shape(), d.Mean)
}

func (d Distribution) sample(rng *rand.Rand) float64 {
	if math.IsInf(d.Mean, 1) {
		return math.Inf(1)
	}
	if math.IsInf(d.shape(), 1) {
		return d.Mean * (1 + d.Jitter*(2*rng.Float64()-1))
	}
	return d.scale() * math.Pow(rng.ExpFloat64(), 1/d.shape())
}

// survival returns P(T > t).
func (d Distribution) survival(t float64) float64 {
	if math.IsInf(d.Mean, 1) {
		return 1
	}
	if math.IsInf(d.shape(), 1) {
		lo, hi := d.Mean*(1-d.Jitter), d.Mean*(1+d.Jitter)
		switch {
		case t < lo:
			return 1
		case t >= hi:
			return 0
		}
		return (hi - t) / (hi - lo)
	}
	return math.Exp(-math.Pow(t/d.scale(), d.shape()))
}

// A Scenario is a simulated comparison: the true crash-time law of each variant and the
// way the runs are made.
type Scenario struct {
	Name      string
	Variants  []Distribution // one per Config.Variants entry
	Limit     float64        // run limit in seconds
	Boot      float64        // VM seconds per run before the reproducer starts
	Slots     int            // VMs running at once (0 = 2)
	StopEarly bool           // cut runs at Comparison.StopAfter when it applies
}

// A SimResult summarizes many simulated comparisons of one Scenario.
type SimResult struct {
	Reps     int
	Outcomes map[Answer]int // how often each final outcome came out
	MeanVM   float64        // mean VM seconds to the decision, all variants, boot included
	P95VM    float64        // 95th percentile of the same
	MeanWall float64        // mean wall-clock seconds to the decision
	MeanRuns float64        // mean runs started and finished
}

// Rate returns the fraction of comparisons that ended in o.
func (r SimResult) Rate(o Answer) float64 { return float64(r.Outcomes[o]) / float64(r.Reps) }

// Simulate runs reps comparisons of cfg on runs drawn from sc, from a random generator
// seeded with seed, and summarizes their outcomes and costs. With more than two variants
// the outcome counted is that of the first comparison, A against Variants[1].
func Simulate(cfg Config, sc Scenario, reps int, seed uint64) (SimResult, error) {
	if len(sc.Variants) != len(cfg.Variants) {
		return SimResult{}, fmt.Errorf("scenario %q has %d variants, config %d", sc.Name, len(sc.Variants), len(cfg.Variants))
	}
	if _, err := New(cfg); err != nil {
		return SimResult{}, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	res := SimResult{Reps: reps, Outcomes: map[Answer]int{}}
	vms := make([]float64, 0, reps)
	for i := 0; i < reps; i++ {
		one := simulateOne(cfg, sc, rng)
		res.Outcomes[one.outcome]++
		vms = append(vms, one.vm)
		res.MeanVM += one.vm / float64(reps)
		res.MeanWall += one.wall / float64(reps)
		res.MeanRuns += float64(one.runs) / float64(reps)
	}
	sort.Float64s(vms)
	if reps > 0 {
		res.P95VM = vms[int(math.Ceil(0.95*float64(reps)))-1]
	}
	return res, nil
}

// A simRun is a simulated VM in a slot.
type simRun struct {
	ticket   Ticket
	start    float64 // wall time the VM started
	exposure float64 // reproducer seconds it will run
	crashed  bool
}

func (r *simRun) end(boot float64) float64 { return r.start + boot + r.exposure }

type simOutcome struct {
	outcome  Answer
	vm, wall float64
	runs     int
}

// simulateOne runs one comparison to its end: fill free slots from Next, apply StopAfter
// cuts, finish the run that ends first, repeat; when the comparison is done, the VMs still
// running are killed and their time so far counts.
func simulateOne(cfg Config, sc Scenario, rng *rand.Rand) simOutcome {
	c, _ := New(cfg)
	n := sc.Slots
	if n <= 0 {
		n = 2
	}
	slots := make([]*simRun, n)
	var out simOutcome
	now := 0.0
	for !c.Done() {
		fillSlots(c, sc, slots, now, rng)
		if sc.StopEarly {
			cutRuns(c, sc, slots, now)
		}
		i := firstToEnd(slots, sc.Boot)
		if i < 0 {
			break // nothing running and nothing to start: the budget is spent
		}
		r := slots[i]
		slots[i] = nil
		now = r.end(sc.Boot)
		out.vm += sc.Boot + r.exposure
		out.runs++
		c.Record(Observation{Ticket: r.ticket, Crashed: r.crashed, Exposure: r.exposure, VMTime: sc.Boot + r.exposure})
	}
	for _, r := range slots {
		if r != nil {
			out.vm += now - r.start
		}
	}
	out.wall = now
	out.outcome = c.tests[0].outcome // Decisions would also run the hazard checks: slow
	return out
}

func fillSlots(c *Comparison, sc Scenario, slots []*simRun, now float64, rng *rand.Rand) {
	for i := range slots {
		if slots[i] != nil {
			continue
		}
		ticket, ok := c.Next()
		if !ok {
			return
		}
		t := sc.Variants[ticket.Variant].sample(rng)
		r := &simRun{ticket: ticket, start: now, exposure: sc.Limit, crashed: t < sc.Limit}
		if r.crashed {
			r.exposure = t
		}
		slots[i] = r
	}
}

// cutRuns stops running VMs at the second StopAfter names (or now, if that second has
// passed), unless they crash first.
func cutRuns(c *Comparison, sc Scenario, slots []*simRun, now float64) {
	for _, r := range slots {
		if r == nil {
			continue
		}
		s, ok := c.StopAfter(r.ticket)
		if !ok {
			continue
		}
		cut := math.Max(s, now-r.start-sc.Boot)
		if cut < r.exposure {
			r.exposure, r.crashed = cut, false
		}
	}
}

func firstToEnd(slots []*simRun, boot float64) int {
	best := -1
	for i, r := range slots {
		if r != nil && (best < 0 || r.end(boot) < slots[best].end(boot)) {
			best = i
		}
	}
	return best
}
