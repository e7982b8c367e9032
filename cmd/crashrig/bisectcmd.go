package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"crypto/sha256"
	"encoding/hex"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/gitbisect"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/xdg"
)

// exitInconclusive is the status of a bisection that could not name one culprit.
const exitInconclusive = 12

func newBisectCmd(stdout, stderr io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "bisect",
		Short: "find the commit, config option or object that made a reproducer crash",
		Long: `Find what broke it, with a flaky reproducer: each step compares a candidate with
the good and the bad end until a sequential test decides, at an error share of
the whole bisection's --confidence. A step that runs out of budget is
inconclusive, never guessed.`,
	}
	c.AddCommand(newBisectGitCmd(stdout, stderr), newBisectObjectsCmd(stdout, stderr), newBisectConfigCmd(stdout, stderr),
		newBisectBenchCmd(stdout))
	return c
}

// bisectFlags are the step flags every bisect command shares.
type bisectFlags struct {
	cfg    bisect.Config
	budget time.Duration
}

func (f *bisectFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.Float64Var(&f.cfg.Confidence, "confidence", bisect.DefaultConfidence, "probability that the culprit named is right, split over the steps")
	fl.Float64Var(&f.cfg.MinRatio, "min-effect", bisect.DefaultMinRatio, "smallest crash-rate ratio between the bad and the good end a step must tell apart")
	fl.IntVar(&f.cfg.StepRuns, "step-runs", bisect.DefaultStepRuns, "a step is inconclusive after this many runs of its candidate")
	fl.DurationVar(&f.budget, "step-budget", 0, "a step is inconclusive after this much VM time, e.g. 30m (0 = no limit)")
}

func (f *bisectFlags) check() error {
	f.cfg.StepVMSeconds = f.budget.Seconds()
	c := f.cfg
	switch {
	case !(c.Confidence > 0 && c.Confidence < 1):
		return usageErr("--confidence %g: want a probability between 0 and 1, e.g. 0.95", c.Confidence)
	case !(c.MinRatio > 1) || math.IsInf(c.MinRatio, 1):
		return usageErr("--min-effect %g: want a ratio above 1 (2 = twice the crash rate)", c.MinRatio)
	case c.StepRuns < 1:
		return usageErr("--step-runs %d: want 1 or more", c.StepRuns)
	case f.budget < 0:
		return usageErr("--step-budget %v: want 0 (no limit) or more", f.budget)
	}
	return nil
}

type bisectGitFlags struct {
	run        runFlags
	steps      bisectFlags
	repo       string
	good, bad  string
	build      string
	configFile string
	work       string
}

func newBisectGitCmd(stdout, stderr io.Writer) *cobra.Command {
	f := &bisectGitFlags{}
	c := &cobra.Command{
		Use:   "git --repo DIR --good A --bad B --build CMD -k KERNEL -r REPRO [flags] [-- REPRO-ARGS]",
		Short: "find the first commit that crashes, driving git bisect in a worktree of its own",
		Long: `Drive git bisect between --good and --bad in a worktree of crashrig's own (the
checkout in --repo is not touched): build each commit with --build (run by sh in
the tree), take the kernel from -k (a path in the tree, or absolute), and decide
each commit with runs against both ends. -k and -r may name paths inside the
tree, so a commit can change the kernel, the reproducer or both. Kernels are
cached by commit and --config; a commit that does not build or boot is skipped.
The state is saved after every run: running the same command again after a
kill resumes the bisection. --work holds the worktree, kernels, state.json and
bisect.log, which names every step, its runs and its decision.

Exit status: 0 culprit named, 12 inconclusive (a range, or the bad end did not
prove bad), 2 bad input or usage, 5 infra-fail, 130 interrupted.`,
		Example: `  crashrig bisect git --repo ~/linux --good v6.1 --bad HEAD --build 'make -j2 bzImage' \
      -k arch/x86/boot/bzImage -r go20427 -d 2m`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBisectGit(cmd.Context(), f, args, stdout, stderr)
		},
	}
	f.run.register(c)
	f.steps.register(c)
	fl := c.Flags()
	fl.StringVar(&f.repo, "repo", "", "the git repository (read only: crashrig adds a worktree of its own)")
	fl.StringVar(&f.good, "good", "", "a commit that does not crash")
	fl.StringVar(&f.bad, "bad", "", "a later commit that crashes")
	fl.StringVar(&f.build, "build", "", "shell command that builds the kernel in the tree, e.g. 'make -j2 bzImage'")
	fl.StringVar(&f.configFile, "config", "", "copy this file to .config in the tree before every build (part of the kernel cache key)")
	fl.StringVar(&f.work, "work", "", "directory for the worktree, kernels, state and log (default under $XDG_STATE_HOME/crashrig/bisect)")
	return c
}

func runBisectGit(ctx context.Context, f *bisectGitFlags, args []string, stdout, stderr io.Writer) error {
	switch {
	case f.repo == "":
		return usageErr("no repository: give --repo DIR")
	case f.good == "" || f.bad == "":
		return usageErr("give both ends: --good COMMIT --bad COMMIT")
	case f.build == "":
		return usageErr("no build command: give --build CMD, e.g. --build 'make -j2 bzImage'")
	case f.run.opts.Kernel == "":
		return usageErr("no kernel: give -k PATH, the kernel the build makes (relative to the tree, or absolute)")
	}
	if err := f.steps.check(); err != nil {
		return err
	}
	if err := f.run.checkRanges(); err != nil {
		return err
	}
	if st, err := os.Stat(f.repo); err != nil || !st.IsDir() {
		return usageErr("--repo %s: no such directory", f.repo)
	}
	if f.configFile != "" {
		if _, err := os.Stat(f.configFile); err != nil {
			return usageErr("--config %s: %v", f.configFile, errors.Unwrap(err))
		}
		abs, _ := filepath.Abs(f.configFile)
		f.configFile = abs
	}
	work := f.work
	if work == "" {
		abs, _ := filepath.Abs(f.repo)
		work = filepath.Join(xdgBisectDir(), shortHash(abs, f.good, f.bad, f.build, f.run.opts.Kernel, f.repro()))
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "crashrig: "+format+"\n", a...) }
	cfg := f.steps.cfg
	cfg.Limit = f.run.opts.Duration.Seconds()
	if cfg.Limit == 0 {
		return usageErr("-d 0: a bisection needs runs of a fixed length, e.g. -d 2m")
	}
	o := gitbisect.Options{
		Repo: f.repo, Good: f.good, Bad: f.bad, Build: f.build, Kernel: f.run.opts.Kernel, ConfigFile: f.configFile,
		Key: f.key(args), Work: work, Bisect: cfg,
		Prepare: func(ctx context.Context, tree, kernel string) (gitbisect.Booter, error) {
			return f.prepare(ctx, tree, kernel, args, stderr)
		},
		Logf: logf,
	}
	res, err := gitbisect.Bisect(ctx, o)
	switch {
	case ctx.Err() != nil:
		return &exitError{code: 130, err: errors.New("interrupted: run the same command again to resume")}
	case errors.Is(err, gitbisect.ErrInput) || run.IsInput(err):
		return &exitError{code: exitUsage, err: err}
	case err != nil:
		return &exitError{code: exitInfra, err: err}
	}
	printBisect(stdout, res)
	if res.First == "" {
		return &exitError{code: exitInconclusive}
	}
	return nil
}

func (f *bisectGitFlags) repro() string { return f.run.repro }

// key is what else makes two bisections the same: the run flags that change what a run
// shows, and the step flags. Resuming with other ones would mix runs of two setups.
func (f *bisectGitFlags) key(args []string) string {
	o := f.run.opts
	parts := []string{f.run.repro, o.Duration.String(), o.Image.Base, o.Append, o.Cmdline, o.Accel, o.TCGThread,
		fmt.Sprint(o.SMP, o.Memory, o.Iterations, f.steps.cfg.Confidence, f.steps.cfg.MinRatio), strings.Join(f.run.env, " "),
		strings.Join(f.run.add, " "), strings.Join(f.run.qemuArgs, " ")}
	return strings.Join(append(parts, args...), "\x00")
}

// prepare makes one kernel bootable, taking -r from the tree when it names a path there.
func (f *bisectGitFlags) prepare(ctx context.Context, tree, kernel string, args []string, stderr io.Writer) (gitbisect.Booter, error) {
	rf := f.run
	if !filepath.IsAbs(rf.repro) && strings.Contains(rf.repro, "/") || strings.HasSuffix(rf.repro, ".sh") {
		if _, err := os.Stat(filepath.Join(tree, rf.repro)); err == nil {
			rf.repro = filepath.Join(tree, rf.repro)
		}
	}
	o, err := rf.options(args, stderr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", run.ErrInput, err)
	}
	o.Kernel = kernel
	o.Logf = nil
	return run.Prepare(ctx, o)
}

// printBisect writes the result: the culprit or the range, the confidence and the cost.
func printBisect(w io.Writer, r *gitbisect.Result) {
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%-14s %s\n", k, fmt.Sprintf(format, a...)) }
	switch {
	case r.First != "":
		row("first bad", "%s %s", r.First, r.Subject)
		row("confidence", "at least %.1f%%", 100*r.Confidence)
	case len(r.Could) > 0:
		row("inconclusive", "the first bad commit is one of %d:", len(r.Could))
		for _, c := range r.Could {
			row("", "%s", c)
		}
	default:
		row("inconclusive", "%s", r.Reason)
	}
	runs := 0
	for _, s := range r.Steps {
		runs += len(s.Runs)
	}
	row("steps", "%d (%d candidate runs), %.0f VM-s", len(r.Steps), runs, r.VM)
	for i, s := range r.Steps {
		row(fmt.Sprintf("  %d", i+1), "%.12s %-12s %s", s.Commit, s.Verdict, s.Reason)
	}
	row("log", "%s", r.Log)
}

func newBisectBenchCmd(stdout io.Writer) *cobra.Command {
	var (
		steps bisectFlags
		reps  int
		seed  uint64
	)
	c := &cobra.Command{
		Use:   "bench [--reps N]",
		Short: "simulate bisections of flaky crashes: the sequential steps against 10 runs per commit",
		Long: `Simulate bisections of 100 commits with known crash-time laws (exponential,
Weibull, deterministic, crashing in only some runs, a good side that crashes
too, commits that do not build or boot, host failures) and print, per scenario,
how often the culprit named is right, wrong or left open, and the VM seconds it
took: once with crashrig's sequential steps at --confidence, once with
syzkaller's fixed policy (10 runs per commit, one crash means bad).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := steps.check(); err != nil {
				return err
			}
			if reps < 1 {
				return usageErr("--reps %d: want 1 or more", reps)
			}
			return bisect.Bench(stdout, steps.cfg, reps, seed)
		},
	}
	steps.register(c)
	c.Flags().IntVar(&reps, "reps", 1000, "bisections per scenario and policy")
	c.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	return c
}

// shortHash names a default work directory after what a bisection is.
func shortHash(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// xdgBisectDir is where bisections keep their state by default.
func xdgBisectDir() string { return filepath.Join(xdg.StateDir(), "crashrig", "bisect") }
