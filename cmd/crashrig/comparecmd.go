package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/compare"
	"github.com/crashrig/crashrig/internal/progress"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/stats"
	"github.com/crashrig/crashrig/internal/store"
)

// Exit statuses of compare: which way the decision went.
const (
	exitNoDifference = 0
	exitFirstMore    = 10 // the first variant crashes more
	exitOtherMore    = 11 // another variant crashes more than the first
	exitUndecided    = 12
	exitBothAlways   = 13 // both crash in every run
)

type compareFlags struct {
	run      runFlags
	kernels  []string
	variants []string
	test     sequential.Config
	method   string
	fixed    int
	budget   time.Duration
	reuse    bool
	html     string
}

func newCompareCmd(argv []string, stdout, stderr io.Writer) *cobra.Command {
	f := &compareFlags{}
	c := &cobra.Command{
		Use:   "compare -k A=KERNEL -k B=KERNEL | -k KERNEL --variant A=FLAGS --variant B=FLAGS [flags] [-- REPRO-ARGS]",
		Short: "run variants side by side until a sequential test can tell which crashes more",
		Long: `Run two or more variants of a run configuration interleaved (A, B, A, B… across
the -j slots) and stop as soon as a sequential test decides, at --alpha and
--beta, whether the first variant crashes more than each other one by at least
--min-effect (a hazard ratio), or that they do not differ that much. The default
method weighs every finished run (crash times, clean ends, runs stopped early)
with e-values that hold --alpha however often they are looked at, for any shape
of the hazard; a crash in every run of one variant against none of the other
decides after 5 runs each. A run whose partner crashed is stopped at that second
(verdict "stopped", censored there, never counted as a pass). A variant is
a kernel (-k name=path) or a set of run flags (--variant name="--smp 1 --env
GOMAXPROCS=1"); the remaining flags apply to all variants. Every run is recorded;
running the same comparison again resumes it, and --reuse counts earlier runs of
identical configurations.

Running the same comparison again continues it while it is undecided (a budget
that ran out included: give a larger one).

Exit status: 0 no difference of that size, 10 the first variant crashes more,
11 another variant crashes more than the first, 12 undecided within the budget,
13 both crash in every run (time to crash is reported), 2 bad input or usage,
5 infra-fail, 130 interrupted.`,
		Example: `  crashrig compare -k old=/boot/vmlinuz-6.1 -k new=./arch/x86/boot/bzImage -r go20427 -d 2m
  crashrig compare -k bzImage --variant smp1="--smp 1" --variant smp2="--smp 2" -r clockstorm -d 1m`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd, f, args, argv, stdout, stderr)
		},
	}
	fl := c.Flags()
	f.run.registerOn(fl, false)
	fl.StringArrayVarP(&f.kernels, "kernel", "k", nil, "kernel image, as NAME=PATH to name a variant (repeatable)")
	fl.StringArrayVar(&f.variants, "variant", nil, `NAME="run flags" (repeatable), e.g. smp1="--smp 1"`)
	fl.Float64Var(&f.test.Alpha, "alpha", sequential.DefaultAlpha, "chance of declaring a difference between variants that crash alike")
	fl.Float64Var(&f.test.Beta, "beta", sequential.DefaultBeta, "chance of missing a difference of --min-effect")
	fl.Float64Var(&f.test.MinRatio, "min-effect", sequential.DefaultMinRatio, "smallest hazard ratio worth finding (and time ratio worth reporting when both crash every run)")
	fl.StringVar(&f.method, "method", sequential.LogRank.String(), "evidence: log-rank (every run's crash time or censoring, as e-values; any hazard shape), race (only which of a pair of runs crashes first), exposure (crash rates over VM-time; assumes a constant hazard) or per-run (crashed within the run or not)")
	fl.StringVar(&f.test.Title, "title", "", "count only crashes with this title")
	fl.IntVarP(&f.fixed, "runs", "n", 0, "fixed design: exactly N runs per variant, then one test")
	fl.IntVar(&f.test.MaxRuns, "max-runs", 1000, "undecided after this many runs in all (well above what the error rates need; the same command with a larger value continues)")
	fl.DurationVar(&f.budget, "budget", 0, "undecided after this much VM-time (0 = no limit)")
	fl.BoolVar(&f.reuse, "reuse", false, "count earlier runs of identical configurations from the database")
	fl.IntVarP(&f.run.jobs, "jobs", "j", 0, "VMs at once (0 = as many as the host's cores hold at the variants' --smp)")
	fl.StringVar(&f.html, "html", "", "also write an HTML report to this file")
	return c
}

func runCompare(cmd *cobra.Command, f *compareFlags, args, argv []string, stdout, stderr io.Writer) error {
	t := f.test
	switch {
	case stats.CheckErrorRates(t.Alpha, t.Beta) != nil:
		return usageErr("--alpha %g, --beta %g: want both between 0 and 1, adding up to less than 1 (e.g. 0.05 each)", t.Alpha, t.Beta)
	case !(t.MinRatio > 1) || math.IsInf(t.MinRatio, 1):
		return usageErr("--min-effect %g: want a ratio above 1 (2 = twice the crash rate)", t.MinRatio)
	}
	variants, err := f.variantOptions(cmd, args, stderr)
	if err != nil {
		return err
	}
	if f.test.Method, err = sequential.ParseMethod(f.method); err != nil {
		return usageErr("--%v", err)
	}
	if err := checkOutput("--html", f.html); err != nil {
		return err
	}
	switch {
	case f.test.MaxRuns < 0:
		return usageErr("--max-runs %d: want 0 (no limit) or more", f.test.MaxRuns)
	case f.fixed < 0:
		return usageErr("-n %d: want 0 (sequential) or more runs per variant", f.fixed)
	case f.budget < 0:
		return usageErr("--budget %v: want 0 (no limit) or more", f.budget)
	case f.run.jobs < 0:
		return usageErr("-j %d: want 0 (as many as the cores hold) or more", f.run.jobs)
	case f.run.jobs == 0:
		f.run.jobs = defaultJobs(variants)
	}
	f.test.FixedRuns = f.fixed
	f.test.MaxVMSeconds = f.budget.Seconds()
	ctx := cmd.Context()
	var cv []compare.Variant
	for _, v := range variants {
		plan, err := run.Prepare(ctx, v.opts)
		if err != nil {
			return prepareErr(fmt.Errorf("variant %s: %w", v.name, err))
		}
		cv = append(cv, compare.Variant{Name: v.name, Plan: plan, Config: plan.Config(v.name, v.label)})
	}
	db, err := store.Open(f.run.db)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	defer db.Close()
	names := make([]string, len(cv))
	for i, v := range cv {
		names[i] = v.Name
	}
	disp := progress.New(stderr, isTerminal(stderr), 0, f.run.jobs, names)
	out, err := compare.Run(ctx, compare.Options{Variants: cv, Test: f.test, Jobs: f.run.jobs, Reuse: f.reuse, DB: db,
		Args: argv, Progress: disp, Logf: logTo(stderr)})
	disp.Close()
	if err != nil {
		if run.IsInput(err) {
			return &exitError{code: exitUsage, err: err}
		}
		return &exitError{code: exitInfra, err: err}
	}
	if err := printComparison(stdout, stderr, out, f, db); err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if ctx.Err() != nil {
		return &exitError{code: 130, err: fmt.Errorf("interrupted; run the same command again to resume session %d", out.Session)}
	}
	if code := compareStatus(out.Decisions); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// defaultJobs is how many VMs the host's cores hold at the largest --smp of the
// variants: a vCPU is a host thread under TCG, and more VMs than cores slow every run.
func defaultJobs(vs []variantSpec) int {
	smp := 1
	for _, v := range vs {
		smp = max(smp, v.opts.SMP)
	}
	return max(1, runtime.NumCPU()/smp)
}

func logTo(w io.Writer) func(string, ...any) {
	return func(f string, a ...any) { fmt.Fprintf(w, "crashrig: "+f+"\n", a...) }
}

// compareStatus maps decisions to the exit status: any "first crashes
// more" wins, then "another crashes more", then undecided.
func compareStatus(ds []sequential.Decision) int {
	code := exitNoDifference
	for _, d := range ds {
		switch d.Outcome {
		case sequential.MoreA:
			return exitFirstMore
		case sequential.MoreB:
			code = exitOtherMore
		case sequential.BothAlways:
			if code == exitNoDifference {
				code = exitBothAlways
			}
		case sequential.Undecided, sequential.Continue:
			if code == exitNoDifference {
				code = exitUndecided
			}
		}
	}
	return code
}

type variantSpec struct {
	name, label string
	opts        run.Options
}

// variantOptions builds each variant's run options: the shared flags, then
// its kernel or its own flags on top.
func (f *compareFlags) variantOptions(cmd *cobra.Command, args []string, stderr io.Writer) ([]variantSpec, error) {
	base, err := f.run.options(args, stderr)
	if err != nil {
		return nil, err
	}
	var out []variantSpec
	switch {
	case len(f.kernels) >= 2 && len(f.variants) == 0:
		for i, k := range f.kernels {
			name, path := splitNamed(k, i)
			o := base
			o.Kernel = path
			out = append(out, variantSpec{name: name, label: name, opts: o})
		}
	case len(f.kernels) == 1 && len(f.variants) >= 2:
		_, path := splitNamed(f.kernels[0], 0)
		for i, v := range f.variants {
			name, words := splitNamed(v, i)
			o, err := f.applyVariant(cmd, words, args, stderr)
			if err != nil {
				return nil, usageErr("--variant %s: %v", name, err)
			}
			o.Kernel = path
			out = append(out, variantSpec{name: name, opts: o})
		}
	default:
		return nil, usageErr("give two or more kernels (-k A=PATH -k B=PATH), or one kernel and two or more --variant NAME=\"flags\"")
	}
	seen := map[string]bool{}
	for _, v := range out {
		if seen[v.name] {
			return nil, usageErr("two variants are named %q", v.name)
		}
		seen[v.name] = true
	}
	return out, nil
}

// splitNamed splits NAME=VALUE; an unnamed value is called A, B, C…
func splitNamed(s string, i int) (name, value string) {
	if n, v, ok := strings.Cut(s, "="); ok && n != "" && !strings.ContainsAny(n, "/ -") {
		return n, v
	}
	if i < 26 {
		return string(rune('A' + i)), s
	}
	return filepath.Base(s), s
}

// applyVariant parses a variant's flags on top of the flags the command
// line set for all variants.
func (f *compareFlags) applyVariant(cmd *cobra.Command, words string, args []string, stderr io.Writer) (run.Options, error) {
	split, err := splitWords(words)
	if err != nil {
		return run.Options{}, err
	}
	vf := &runFlags{}
	fs := pflag.NewFlagSet("variant", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	vf.registerOn(fs, false)
	var setErr error
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if fs.Lookup(fl.Name) == nil {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, x := range sv.GetSlice() {
				setErr = firstErr(setErr, fs.Set(fl.Name, x))
			}
			return
		}
		setErr = firstErr(setErr, fs.Set(fl.Name, fl.Value.String()))
	})
	if setErr != nil {
		return run.Options{}, setErr
	}
	if err := fs.Parse(split); err != nil {
		return run.Options{}, err
	}
	if fs.NArg() > 0 {
		return run.Options{}, fmt.Errorf("unexpected words %q (reproducer arguments go after --)", fs.Args())
	}
	return vf.options(args, stderr)
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// splitWords splits a variant's flags as a shell would: quotes, escapes and
// $VARIABLES from the environment, but no globbing.
func splitWords(s string) ([]string, error) {
	var words []*syntax.Word
	err := syntax.NewParser().Words(strings.NewReader(s), func(w *syntax.Word) bool {
		words = append(words, w)
		return true
	})
	if err != nil {
		return nil, err
	}
	return expand.Fields(&expand.Config{Env: expand.ListEnviron(os.Environ()...)}, words...)
}

// printComparison prints the decisions above the side-by-side report.
func printComparison(w, stderr io.Writer, out *compare.Conclusion, f *compareFlags, db *store.DB) error {
	conf := fmt.Sprintf("alpha %.3g, beta %.3g, min effect ×%g", f.test.Alpha, f.test.Beta, f.test.MinRatio)
	m, err := report.FromComparison(db, out.Session, out.Decisions, conf, out.Resumed, out.Reused, time.Now())
	if err != nil {
		return err
	}
	for _, it := range m.Decision.Items {
		if it.Budget != "" {
			logTo(stderr)("%s vs %s: %s", it.A, it.B, it.Budget)
		}
	}
	if f.html != "" {
		if err := atomicfile.Write(f.html, 0o644, m.HTML); err != nil {
			return err
		}
	}
	if f.run.jsonOut {
		return m.JSON(w)
	}
	return m.Text(w)
}
