package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/gonofix"
	"github.com/crashrig/crashrig/internal/objbisect"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/story"
	"github.com/crashrig/crashrig/internal/xdg"
)

func newStoryCmd(stdout, stderr io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "story",
		Short: "re-enact crashrig's seed story end to end",
	}
	c.AddCommand(newStoryVDSOCmd(stdout, stderr))
	return c
}

type storyFlags struct {
	out, build, db, accel, workload, nofixGo, stockGo string
	only                                              []string
	reduced                                           bool
	smp, jobs                                         int
}

func newStoryVDSOCmd(stdout, stderr io.Writer) *cobra.Command {
	f := &storyFlags{}
	c := &cobra.Command{
		Use:   "vdso [--out DIR] [--reduced]",
		Short: "from a kernel tree to \"vclock_gettime.o, a 4 KiB stack probe, racing small stacks\", with a report",
		Long: `Re-enact the seed story (a kernel vDSO built with -fstack-check probes 4 KiB below
the stack pointer and races Go's small goroutine stacks) in six stages:

 1. build the clean and the probed kernel (--build, by default
    scripts/build-seed-kernels, which installs linux-source-6.1 if needed) and
    show the probe in the vDSO's disassembly;
 2. compare them with vdsostack: the vDSO's stack footprint;
 3. compare them with a Go workload (--workload) built with the host's Go, which
    survives because Go calls the vDSO on the system stack, and built with a
    copy of the host's Go without that fix, which crashes on the probed kernel;
 4. the clue: the lost-update race with GOMAXPROCS=2 against GOMAXPROCS=1;
 5. bisect the objects of the probed build (the probe flags on a hash-selected
    half of the candidates per kernel) down to vclock_gettime.o.

It writes story.html, story.md (with its SVG plots) and state.json to --out. A
second invocation reuses the built kernels and every stage already decided.
--reduced is the form the test command runs: fewer fixed runs and the bisection's
candidates narrowed to arch/x86/entry/vdso/.

Exit status: 0 every stage as the story predicts, 1 some stage not (the report
says which), 2 bad input or usage, 5 infra-fail, 130 interrupted.`,
		Example: `  crashrig story vdso --out story/
  crashrig story vdso --out story-ci/ --reduced`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStory(cmd.Context(), f, stdout, stderr)
		},
	}
	fl := c.Flags()
	def := run.Defaults()
	fl.StringVar(&f.out, "out", "story", "directory for the report and the story's state")
	fl.StringVar(&f.build, "build", "scripts/build-seed-kernels", "command that builds the two kernels and prints their paths, clean first")
	fl.BoolVar(&f.reduced, "reduced", false, "the short form: fewer fixed runs, bisection candidates under arch/x86/entry/vdso/")
	fl.StringArrayVar(&f.only, "only", nil, "bisection candidates: objects under this path prefix (repeatable; default arch/x86/, with --reduced arch/x86/entry/vdso/)")
	fl.StringVar(&f.workload, "workload", "vdsoneighbour", "the built-in Go workload of stage 3")
	fl.StringVar(&f.stockGo, "go", "go", "the host's go command: stage 3 builds the workload with it, and a copy without the fix from it")
	fl.StringVar(&f.nofixGo, "nofix-go", "", "a go command without the vDSO stack switch for stage 3 (default: crashrig gonofix's copy of --go)")
	fl.IntVar(&f.smp, "smp", def.SMP, "vCPUs of every run")
	fl.StringVar(&f.accel, "accel", def.Accel, "accelerator: auto, kvm or tcg")
	fl.IntVarP(&f.jobs, "jobs", "j", 2, "VMs at once")
	fl.StringVar(&f.db, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	return c
}

func runStory(ctx context.Context, f *storyFlags, stdout, stderr io.Writer) error {
	build, err := splitWords(f.build)
	if err != nil || len(build) == 0 {
		return usageErr("--build %q: want a command", f.build)
	}
	if _, err := exec.LookPath(build[0]); err != nil {
		return usageErr("--build %s: %v: run from crashrig's checkout (scripts/build-seed-kernels), or give a command that prints the clean and the probed kernel's paths", build[0], errors.Unwrap(err))
	}
	if f.jobs < 1 {
		return usageErr("-j %d: want 1 or more", f.jobs)
	}
	only := f.only
	if len(only) == 0 {
		only = []string{"arch/x86/"}
		if f.reduced {
			only = []string{"arch/x86/entry/vdso/"}
		}
	}
	self, err := os.Executable()
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	db, err := store.Open(f.db)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	defer db.Close()
	ro := run.Defaults()
	ro.SMP, ro.Accel = f.smp, f.accel
	logf := stderrLogf(stderr)
	toolchain := func(ctx context.Context) (string, error) {
		if f.nofixGo != "" {
			return f.nofixGo, nil
		}
		return gonofix.Toolchain(ctx, f.stockGo, filepath.Join(xdg.CacheDir(), "go-nofix"))
	}
	out, err := filepath.Abs(f.out)
	if err != nil {
		return usageErr("--out %s: %v", f.out, err)
	}
	res, err := story.Run(ctx, story.Options{Out: out, BuildCmd: build, Reduced: f.reduced, Run: ro, DB: db, Jobs: f.jobs,
		Self: self, Workload: f.workload, StockGo: f.stockGo, Toolchain: toolchain, Only: only, Logf: logf})
	switch {
	case ctx.Err() != nil:
		return &exitError{code: 130, err: errors.New("interrupted; run the same command again to go on")}
	case err != nil && (run.IsInput(err) || errors.Is(err, objbisect.ErrInput)):
		return &exitError{code: exitUsage, err: err}
	case err != nil:
		return &exitError{code: exitInfra, err: err}
	}
	for _, l := range res.Story.Summary {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintf(stdout, "report: %s, %s\n", filepath.Join(out, "story.html"), filepath.Join(out, "story.md"))
	if !res.OK {
		return &exitError{code: 1, err: errors.New("not every stage came out as the story predicts: " + strings.Join(unexpected(res), ", "))}
	}
	return nil
}

func unexpected(r *story.Result) []string {
	var out []string
	for _, s := range r.Story.Stages {
		if !s.Expected {
			out = append(out, s.Name)
		}
	}
	return out
}
