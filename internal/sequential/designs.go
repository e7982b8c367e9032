package sequential

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/crashrig/crashrig/internal/stats"
)

// A DesignRow is one simulated scenario: what the sequential test costs and how often it
// is wrong, next to two fixed designs.
type DesignRow struct {
	DesignScenario
	Seq  SimResult // the sequential test of the DesignTable.Config
	Race SimResult // the race test at the same α, β and MinRatio, for comparison

	// FixedPoints is the number of points (heats won) a fixed-sample exact binomial test
	// needs for the same α, β and MinRatio; FixedVM the expected VM seconds to collect
	// them in this scenario with the same cut runs (no overshoot, no boot).
	FixedPoints int
	FixedVM     float64

	// Practice is the usual fixed design: DesignTable.PracticeRuns runs of Scenario.Limit per
	// variant, judged by the exact rate-ratio test at the same α.
	Practice SimResult
}

// Wrong returns how often r ended in a wrong decision: any difference when the variants
// are equal; anything but the right direction (undecided included) when they differ.
func (row DesignRow) Wrong(r SimResult) float64 {
	if row.Want == NoDifference {
		return r.Rate(MoreA) + r.Rate(MoreB)
	}
	right := r.Rate(row.Want)
	if row.Also != Continue {
		right += r.Rate(row.Also)
	}
	return 1 - right
}

// A DesignTable compares the sequential test with fixed designs over a set of scenarios.
type DesignTable struct {
	Config       Config
	Reps         int // simulated comparisons per scenario and design
	PracticeRuns int
	Rows         []DesignRow
	OneSample    OneSampleDesign
}

// A OneSampleDesign is the one-kernel case of notes/statistics.md §5: clearing a kernel
// against a known bad MTTC with the exposure SPRT (λ0 = 0, λ1 = 1/BadMTTC), against one
// run of Limit and against PracticeRuns runs of Limit.
type OneSampleDesign struct {
	BadMTTC, Limit float64 // seconds
	CleanVM        float64 // VM seconds to clear a clean kernel (deterministic)
	BadVM          float64 // mean VM seconds to convict the bad kernel
	BadMiss        float64 // β: how often the bad kernel was cleared
	OneRunVM       float64 // one run of Limit on the clean kernel
	PracticeVM     float64 // PracticeRuns runs of Limit on the clean kernel
}

// A DesignScenario is a Scenario with its right answer.
type DesignScenario struct {
	Scenario
	Want Answer // MoreA, MoreB, NoDifference or BothAlways
	// Also is a second right answer (Continue = none): BothAlways where both variants
	// crash in nearly every run and their times differ by less than MinRatio, though
	// their hazards differ by that much.
	Also Answer
}

// DesignScenarios are the scenarios CompareDesigns simulates: a bad kernel with MTTC 60 s, run
// limits of 10 × MTTC, two VMs at a time, the harness stopping runs at StopAfter.
func DesignScenarios() []DesignScenario {
	mk := func(name string, want Answer, a, b Distribution) DesignScenario {
		return DesignScenario{Scenario: Scenario{Name: name, Variants: []Distribution{a, b}, Limit: 600, StopEarly: true}, Want: want}
	}
	boot := mk("A 60 s, B clean, 10 s boot", MoreA, Exp(60), Never())
	boot.Boot = 10
	uncut := mk("A 60 s, B clean, runs not cut", MoreA, Exp(60), Never())
	uncut.StopEarly = false
	w2 := mk("Weibull k=2, hazard ratio 2", MoreA, Weibull(2, 60), Weibull(2, 60*math.Sqrt2))
	w2.Also = BothAlways // a time ratio of √2 < 2, and both crash in nearly every run
	return []DesignScenario{
		mk("A MTTC 60 s, B clean", MoreA, Exp(60), Never()),
		boot,
		uncut,
		mk("A 60 s, B 120 s (ratio 2)", MoreA, Exp(60), Exp(120)),
		mk("A 120 s, B 60 s (ratio ½)", MoreB, Exp(120), Exp(60)),
		mk("A 60 s, B 600 s (ratio 10)", MoreA, Exp(60), Exp(600)),
		mk("A = B = 60 s", NoDifference, Exp(60), Exp(60)),
		mk("A = B = 600 s", NoDifference, Exp(600), Exp(600)),
		// Same shape, scales chosen for a hazard ratio of 2: (ηB/ηA)^k = 2.
		w2,
		mk("Weibull k=0.5, hazard ratio 2", MoreA, Weibull(0.5, 60), Weibull(0.5, 240)),
		mk("Weibull k=2, A = B = 60 s", NoDifference, Weibull(2, 60), Weibull(2, 60)),
		mk("Weibull k=0.5, A = B = 600 s", NoDifference, Weibull(0.5, 600), Weibull(0.5, 600)),
		mk("A crashes at 1 s every run, B never", MoreA, Fixed(1, 0.05), Never()),
		mk("both crash every run, 1.10 s vs 1.14 s", BothAlways, Fixed(1.10, 0.01), Fixed(1.14, 0.01)),
	}
}

// CompareDesigns simulates reps comparisons per scenario of DesignScenarios with cfg (its
// Variants are replaced), and the fixed designs next to it, from seed.
// CompareDesigns(Config{}, 1000, 1) takes a few seconds.
func CompareDesigns(cfg Config, reps int, seed uint64) (DesignTable, error) {
	cfg.Variants = []string{"A", "B"}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return DesignTable{}, err
	}
	tab := DesignTable{Config: cfg, Reps: reps, PracticeRuns: 10}
	n := fixedPoints(cfg.Alpha, cfg.Beta, cfg.MinRatio)
	for i, s := range DesignScenarios() {
		row := DesignRow{DesignScenario: s, FixedPoints: n}
		if row.Seq, err = Simulate(cfg, s.Scenario, reps, seed+uint64(i)); err != nil {
			return tab, err
		}
		race := cfg
		race.Method = Race
		if row.Race, err = Simulate(race, s.Scenario, reps, seed+uint64(i)); err != nil {
			return tab, err
		}
		practice := cfg
		practice.FixedRuns, practice.Method = tab.PracticeRuns, Race
		if row.Practice, err = Simulate(practice, s.Scenario, reps, seed+uint64(i)); err != nil {
			return tab, err
		}
		row.FixedVM = float64(n) * vmPerPoint(s.Variants[0], s.Variants[1], s.Limit)
		tab.Rows = append(tab.Rows, row)
	}
	tab.OneSample = oneSample(60, 600, cfg.Alpha, cfg.Beta, tab.PracticeRuns, reps, seed)
	return tab, nil
}

// fixedPoints returns the fewest points N for which the exact binomial test of p = ½ at
// two-sided level alpha has power 1−beta at p = ratio/(1+ratio).
func fixedPoints(alpha, beta, ratio float64) int {
	p1 := ratio / (1 + ratio)
	for n := 1; n < 100000; n++ {
		c := n/2 + 1 // smallest count in the upper tail with P(X ≥ c) ≤ α/2 under p = ½
		for c <= n && stats.BinomialSF(c, n, 0.5) > alpha/2 {
			c++
		}
		if c <= n && stats.BinomialSF(c, n, p1) >= 1-beta {
			return n
		}
	}
	return math.MaxInt
}

// vmPerPoint is the expected VM time per point of a race between a and b with runs cut at
// the first crash: 2·E[min(Ta, Tb, limit)] / P(a crash before the limit).
func vmPerPoint(a, b Distribution, limit float64) float64 {
	both := func(t float64) float64 { return a.survival(t) * b.survival(t) }
	decisive := 1 - both(limit)
	if decisive == 0 {
		return math.Inf(1)
	}
	return 2 * simpson(both, 0, limit) / decisive
}

// simpson integrates f over [lo, hi] by Simpson's rule on 2000 intervals.
func simpson(f func(float64) float64, lo, hi float64) float64 {
	const n = 2000
	h := (hi - lo) / n
	sum := f(lo) + f(hi)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * f(lo+float64(i)*h)
	}
	return sum * h / 3
}

var shortOutcome = map[Answer]string{MoreA: "A>B", MoreB: "A<B", NoDifference: "A~B", BothAlways: "always"}

// String renders the table as aligned text, one scenario a line, then the one-sample case.
func (tab DesignTable) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s test, α = %g, β = %g, min ratio %g; %d comparisons per cell; run limit 600 s\n",
		tab.Config.Method, tab.Config.Alpha, tab.Config.Beta, tab.Config.MinRatio, tab.Reps)
	fmt.Fprintf(&b, "%-38s %-6s | %-32s | %-21s | %-9s | %s\n", "", "", tab.Config.Method.String()+" (sequential)",
		"race (sequential)", "fixed-N", fmt.Sprintf("%d runs × limit", tab.PracticeRuns))
	fmt.Fprintf(&b, "%-38s %-6s | %6s %8s %8s %7s | %6s %8s %5s | %9s | %6s %8s\n", "scenario", "answer",
		"wrong", "VM-s", "p95", "runs", "wrong", "VM-s", "ratio", "VM-s", "wrong", "VM-s")
	for _, row := range tab.Rows {
		fmt.Fprintf(&b, "%-38s %-6s | %6.3f %8.0f %8.0f %7.1f | %6.3f %8.0f %5.2f | %9.0f | %6.3f %8.0f\n",
			row.Name, shortOutcome[row.Want], row.Wrong(row.Seq), row.Seq.MeanVM, row.Seq.P95VM, row.Seq.MeanRuns,
			row.Wrong(row.Race), row.Race.MeanVM, row.Seq.MeanVM/row.Race.MeanVM,
			row.FixedVM, row.Wrong(row.Practice), row.Practice.MeanVM)
	}
	fmt.Fprintf(&b, "answer: A>B = A crashes more, A<B = B crashes more, A~B = no difference of %g×, always = both "+
		"crash every run; ratio: VM-s against the race's; fixed-N: exact binomial test on %d heats won, same α and β\n",
		tab.Config.MinRatio, tab.Rows[0].FixedPoints)
	o := tab.OneSample
	fmt.Fprintf(&b, "one kernel vs known MTTC %gs (exposure SPRT λ0 = 0): clean kernel cleared in %.1f VM-s "+
		"(one %gs run: %.0f, %d runs: %.0f); bad kernel convicted in %.1f VM-s mean, missed %.3f\n",
		o.BadMTTC, o.CleanVM, o.Limit, o.OneRunVM, tab.PracticeRuns, o.PracticeVM, o.BadVM, o.BadMiss)
	return b.String()
}

// oneSample simulates the one-kernel exposure SPRT of a clean kernel against a bad one
// with MTTC badMTTC: the clean kernel is cleared at exactly −ln(β/(1−α))·MTTC VM seconds;
// the bad one is convicted at its first crash, or missed if none comes by then.
func oneSample(badMTTC, limit, alpha, beta float64, practiceRuns, reps int, seed uint64) OneSampleDesign {
	s, err := stats.NewPoissonSPRT(0, 1/badMTTC, alpha, beta)
	if err != nil {
		return OneSampleDesign{}
	}
	clear := s.AcceptExposure(0)
	o := OneSampleDesign{BadMTTC: badMTTC, Limit: limit, CleanVM: clear, OneRunVM: limit,
		PracticeVM: float64(practiceRuns) * limit}
	rng := rand.New(rand.NewPCG(seed, ^seed))
	for i := 0; i < reps; i++ {
		t := Exp(badMTTC).sample(rng) // one run: clear < limit, so the run is cut at clear
		if t >= clear {
			o.BadMiss++
			t = clear
		}
		o.BadVM += t
	}
	o.BadMiss /= float64(reps)
	o.BadVM /= float64(reps)
	return o
}
