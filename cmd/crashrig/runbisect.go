package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// Exit statuses of crashrig run --bisect, as git bisect run reads them.
const (
	bisectGood  = 0
	bisectBad   = 1
	bisectSkip  = 125
	bisectFatal = 128 // crashrig itself cannot go on: git bisect run stops
)

// bisectFlagErrors makes a flag error of run --bisect fatal for git bisect run, which
// would read 2 as "bad".
func bisectFlagErrors(c *cobra.Command, argv []string) {
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if slices.Contains(argv, "--bisect") {
			return &exitError{code: bisectFatal, err: err}
		}
		return err
	})
}

// runForBisect is crashrig run --bisect: up to -n boots, stopping at the first crash.
// A crash or a hang is bad (1), -n clean runs are good (0); a kernel or reproducer that
// is missing or unusable at this commit, a boot failure or host failures without a
// decision skip it (125). Errors in crashrig's own flags, or a host crashrig cannot run
// on, are fatal (128): git bisect run stops instead of blaming the commit.
func runForBisect(cmd *cobra.Command, f *runFlags, args, argv []string, stdout, stderr io.Writer) error {
	fatal := func(err error) error { return &exitError{code: bisectFatal, err: err} }
	skip := func(format string, a ...any) error {
		return &exitError{code: bisectSkip, err: fmt.Errorf("skip: "+format, a...)}
	}
	if f.opts.Kernel == "" {
		return fatal(errors.New("no kernel: give -k PATH"))
	}
	if f.runs < 1 || f.jobs < 1 {
		return fatal(fmt.Errorf("-n %d -j %d: --bisect wants at least one run and one VM", f.runs, f.jobs))
	}
	if _, err := os.Stat(f.opts.Kernel); err != nil {
		return skip("kernel %s: %v (the build did not make it)", f.opts.Kernel, errors.Unwrap(err))
	}
	if strings.Contains(f.repro, "/") {
		if _, err := os.Stat(f.repro); err != nil {
			return skip("reproducer %s: %v", f.repro, errors.Unwrap(err))
		}
	}
	o, err := f.options(args, stderr)
	if err != nil {
		return fatal(err)
	}
	ctx := cmd.Context()
	plan, err := run.Prepare(ctx, o)
	switch {
	case ctx.Err() != nil:
		return &exitError{code: verdict.Interrupted.ExitCode()}
	case run.IsInput(err):
		return skip("%v", err)
	case err != nil:
		return fatal(err)
	}
	db, err := store.Open(f.db)
	if err != nil {
		return fatal(err)
	}
	defer db.Close()
	sess, err := db.BeginSession("run", f.label, argv)
	if err != nil {
		return fatal(err)
	}
	defer db.EndSession(sess.ID)
	rec := &store.Recorder{DB: db, Session: sess.ID, Configs: []record.Config{plan.Config("", f.label)}}
	sum, err := batch.Run(ctx, batch.Options{Jobs: f.jobs, Variants: []batch.Booter{plan}, Recorder: rec,
		Policy: &batch.Repeat{Runs: f.runs, UntilCrash: true}})
	if err != nil {
		return fatal(err)
	}
	if ctx.Err() != nil {
		return &exitError{code: verdict.Interrupted.ExitCode()}
	}
	code, why := bisectStatus(sum.Results[0], f.runs)
	fmt.Fprintf(stdout, "%s\n", why)
	if code != bisectGood {
		return &exitError{code: code}
	}
	return nil
}

// bisectStatus reads the runs of one commit: any crash or hang is bad; else a boot
// failure, or fewer clean runs than asked (host failures), is a skip; else good.
func bisectStatus(rs []*record.Run, want int) (int, string) {
	n := map[verdict.Verdict]int{}
	for _, r := range rs {
		n[r.Verdict]++
	}
	clean := n[verdict.Pass] + n[verdict.Stopped]
	counts := fmt.Sprintf("%d runs: %d crash, %d hang, %d clean, %d boot-fail, %d infra-fail",
		len(rs), n[verdict.Crash], n[verdict.Hang], clean, n[verdict.BootFail], n[verdict.InfraFail])
	switch {
	case n[verdict.Crash]+n[verdict.Hang] > 0:
		return bisectBad, "bad: " + counts
	case n[verdict.BootFail] > 0:
		return bisectSkip, "skip (the kernel does not boot): " + counts
	case clean < want:
		return bisectSkip, "skip (host failures, nothing blamed): " + counts
	}
	return bisectGood, "good: " + counts
}
