package sequential

import (
	"fmt"
	"math"
	"sort"

	"github.com/crashrig/crashrig/internal/stats"
)

// A Ticket names one run handed out by Comparison.Next. Runs of different variants with
// the same Seq form a heat: Race and PerRun compare them with each other.
type Ticket struct {
	Variant int // index into Config.Variants
	Seq     int // number of the run within its variant, from 1 (0 in an Observation: see Record)
}

// An Observation is one finished run as the comparison counts it. Boot failures, host failures and interrupted runs are
// not Observations: hand their Ticket back with Cancel.
type Observation struct {
	Ticket
	Crashed  bool    // the run ended in a crash
	Exposure float64 // seconds from reproducer start to the crash or to the run's end
	VMTime   float64 // seconds the VM ran, boot included; counts against MaxVMSeconds (0 = Exposure)
	Title    string  // crash title, matched against Config.Title
	Stopped  bool    // the harness stopped the run early (StopAfter): censored at Exposure
	// Ended says the reproducer finished clean by itself (exit 0) before the limit: it
	// could not have crashed later, so LogRank counts it as crash-free to the limit.
	Ended bool
}

// A variant is the record of one variant's runs.
type variant struct {
	name     string
	seqs     []runRecord // by Seq−1, for every Seq handed out or recorded
	free     []int       // Seqs handed back by Cancel, to hand out again
	inFlight int         // runs handed out and not yet recorded or cancelled
	runs     int         // finished runs
	stopped  int         // finished runs the harness stopped early
	crashes  int         // counted crashes (matching Config.Title)
	exposure float64     // reproducer seconds of finished runs: the end of its exposure clock
	vmTime   float64     // VM seconds of finished runs
	crashAt  []float64   // positions of counted crashes on the exposure clock (record order)
	obs      []stats.Observation
}

// meanRun is the exposure the Exposure scheduler expects from one more run of v.
func (v *variant) meanRun(limit float64) float64 {
	switch {
	case v.runs > 0:
		return v.exposure / float64(v.runs)
	case limit > 0:
		return limit
	}
	return 1
}

// record returns the run record for seq, growing the table as needed.
func (v *variant) record(seq int) *runRecord {
	for len(v.seqs) < seq {
		v.seqs = append(v.seqs, runRecord{})
	}
	return &v.seqs[seq-1]
}

// A Comparison decides, one finished run at a time, whether variants crash at different
// rates, and tells the scheduler what to run next and when a running VM may stop. It is a
// pure state machine: no I/O, no clock. It is not safe for concurrent use; one goroutine
// (the collector) owns it.
//
// The caller's loop: while !Done, take a Ticket from Next for each free slot and start
// that variant; poll StopAfter for running tickets if it wants to stop VMs early; Record
// each finished run and Cancel each run that failed to produce one. Decisions says where
// each comparison stands at any time.
type Comparison struct {
	cfg      Config
	variants []*variant
	tests    []pairTest // tests[i] compares Variants[0] with Variants[i+1]
	vmTime   float64    // VM seconds of all finished runs
	runs     int        // finished runs of all variants
}

// New returns a comparison of cfg.Variants, or an error if cfg is invalid.
func New(cfg Config) (*Comparison, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("comparison config: %w", err)
	}
	c := &Comparison{cfg: cfg}
	for _, name := range cfg.Variants {
		c.variants = append(c.variants, &variant{name: name})
	}
	for i := 1; i < len(cfg.Variants); i++ {
		c.tests = append(c.tests, newPairTest(0, i, cfg.pairAlpha(), cfg.Beta, cfg.MinRatio))
	}
	return c, nil
}

// Config returns the configuration with defaults filled in.
func (c *Comparison) Config() Config { return c.cfg }

// Next hands out the next run to start and counts it as running, or returns false when
// no run should start: every comparison is decided, the budget is committed, or (fixed
// design) every run is handed out. Runs are interleaved A, B, A, B…: Race, PerRun and the
// fixed design hand out the variant with the fewest runs; Exposure the one with the least
// exposure, counting running runs at their expected length, so a variant whose runs end
// early in crashes gets more of them. Ties go to the lower index.
func (c *Comparison) Next() (Ticket, bool) {
	if c.committed() {
		return Ticket{}, false
	}
	best, bestLoad := -1, math.Inf(1)
	for i, v := range c.variants {
		if !c.needed(i) {
			continue
		}
		handedOut := len(v.seqs) - len(v.free)
		if c.cfg.FixedRuns > 0 && handedOut >= c.cfg.FixedRuns {
			continue
		}
		load := float64(handedOut)
		if c.cfg.Method == Exposure && c.cfg.FixedRuns == 0 {
			load = v.exposure + float64(v.inFlight)*v.meanRun(c.cfg.Limit)
		}
		if load < bestLoad {
			best, bestLoad = i, load
		}
	}
	if best < 0 {
		return Ticket{}, false
	}
	return c.handOut(best), true
}

// handOut gives variant v's lowest free Seq, or a new one.
func (c *Comparison) handOut(v int) Ticket {
	x := c.variants[v]
	x.inFlight++
	seq := len(x.seqs) + 1
	if len(x.free) > 0 {
		sort.Ints(x.free)
		seq, x.free = x.free[0], x.free[1:]
	}
	x.record(seq).issued = true
	return Ticket{Variant: v, Seq: seq}
}

// Cancel hands back a ticket whose run produced no result (boot or host failure,
// interrupted): its Seq goes to the next run of that variant.
func (c *Comparison) Cancel(t Ticket) {
	if t.Variant < 0 || t.Variant >= len(c.variants) {
		return
	}
	v := c.variants[t.Variant]
	if t.Seq < 1 || t.Seq > len(v.seqs) || !v.seqs[t.Seq-1].issued {
		return
	}
	v.seqs[t.Seq-1].issued = false
	v.inFlight--
	v.free = append(v.free, t.Seq)
}

// needed reports whether variant v still takes part in an undecided comparison.
func (c *Comparison) needed(v int) bool {
	for _, t := range c.tests {
		if t.outcome == Continue && (t.a == v || t.b == v) {
			return true
		}
	}
	return false
}

// committed reports whether finished and running runs are expected to use the budget.
func (c *Comparison) committed() bool {
	if c.cfg.FixedRuns > 0 {
		return false
	}
	inFlight, expected := 0, 0.0
	for _, v := range c.variants {
		inFlight += v.inFlight
		expected += float64(v.inFlight) * v.meanRun(c.cfg.Limit)
	}
	return (c.cfg.MaxRuns > 0 && c.runs+inFlight >= c.cfg.MaxRuns) ||
		(c.cfg.MaxVMSeconds > 0 && c.vmTime+expected >= c.cfg.MaxVMSeconds)
}

// budgetSpent reports whether finished runs have used up the sequential budget.
func (c *Comparison) budgetSpent() bool {
	if c.cfg.FixedRuns > 0 {
		return false
	}
	return (c.cfg.MaxVMSeconds > 0 && c.vmTime >= c.cfg.MaxVMSeconds) ||
		(c.cfg.MaxRuns > 0 && c.runs >= c.cfg.MaxRuns)
}

// Done reports whether every comparison has an outcome other than Continue.
func (c *Comparison) Done() bool {
	for _, t := range c.tests {
		if t.outcome == Continue {
			return false
		}
	}
	return true
}
