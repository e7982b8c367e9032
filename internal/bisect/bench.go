package bisect

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Scenarios are the simulated histories crashrig bisect bench and the tests run: 100
// candidates, 60 s runs, 2 s boots.
func Scenarios() []Scenario {
	base := func(name string, good, bad Law) Scenario {
		return Scenario{Name: name, N: 100, Good: good, Bad: bad, Limit: 60, Boot: 2}
	}
	failing := base("exp(20s), 5% no build, 2% no boot, 3% host", Never, Law{Mean: 20})
	failing.BuildFail, failing.BootFail, failing.InfraFail = 0.05, 0.02, 0.03
	return []Scenario{
		base("exp(20s)", Never, Law{Mean: 20}),
		base("weibull k=0.5", Never, Law{Mean: 20, Shape: 0.5}),
		base("weibull k=2", Never, Law{Mean: 20, Shape: 2}),
		base("fixed 5s", Never, Law{Mean: 5, Shape: math.Inf(1)}),
		base("exp(20s) in 50% of runs", Never, Law{Mean: 20, Reproduce: 0.5}),
		base("exp(20s) in 30% of runs", Never, Law{Mean: 20, Reproduce: 0.3}),
		base("good exp(400s), bad exp(20s)", Law{Mean: 400}, Law{Mean: 20}),
		failing,
	}
}

// Bench simulates every scenario reps times with the sequential steps at cfg and with
// syzkaller's fixed policy, and writes one table row per pair to w.
func Bench(w io.Writer, cfg Config, reps int, seed uint64) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tpolicy\tcorrect\twrong\tinconclusive\tVM-s mean\tVM-s p95\tsteps\truns\t")
	for _, sc := range Scenarios() {
		for _, p := range []Policy{Sequential, Fixed10} {
			r, err := Simulate(cfg, sc, p, reps, seed)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%.1f%%\t%.1f%%\t%.0f\t%.0f\t%.1f\t%.0f\t\n", sc.Name, p,
				100*r.Rate(r.Correct), 100*r.Rate(r.Wrong), 100*r.Rate(r.Inconclusive), r.MeanVM, r.P95VM, r.MeanSteps, r.MeanRuns)
		}
	}
	return tw.Flush()
}
