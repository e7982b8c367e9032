package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/objbisect"
)

type bisectObjFlags struct {
	run   runFlags
	steps bisectFlags
	treeFlags
	config, flags string
	cc            string
	only          []string
}

func newBisectObjectsCmd(stdout, stderr io.Writer) *cobra.Command {
	f := &bisectObjFlags{}
	c := &cobra.Command{
		Use:   "objects --repo SRC --config FILE --flags FLAGS -r REPRO [--only PREFIX] [flags]",
		Short: "find the objects whose extra compiler flags make the kernel crash",
		Long: `Build the kernel in SRC (out of tree, in --out) with crashrig as the compiler
(a link named like --cc, first in the build's PATH: see crashrig cc), once with
no extra flags and once with --flags on every candidate object (every C object
the kernel build compiles, or those under --only; objects that do not compile or
link with the flags stay plain and are listed), check that the second crashes more, then halve
the candidates: each round rebuilds only the objects whose flags changed, boots
the kernel against both ends, and keeps a half only when it crashes. Objects
that crash only together are found together. The report names the objects with
the confidence of the whole search; a round that runs out of budget ends it
with the candidates left.

Exit status: 0 culprits named, 12 inconclusive (candidates left), 2 bad input
or usage, 5 infra-fail, 130 interrupted.`,
		Example: `  crashrig bisect objects --repo ~/linux --config .config \
      --flags '-fstack-check -fno-inline -mpreferred-stack-boundary=4' -r vdsostack --only arch/x86/entry/vdso/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBisectObjects(cmd.Context(), f, args, stdout, stderr)
		},
	}
	f.run.registerOn(c.Flags(), false)
	f.steps.register(c)
	fl := c.Flags()
	f.treeFlags.register(fl)
	fl.StringVar(&f.config, "config", "", "the .config to build (copied to --out)")
	fl.StringVar(&f.flags, "flags", "", "the extra compiler flags that make the kernel crash")
	fl.StringArrayVar(&f.only, "only", nil, "candidate objects are those under this path prefix, e.g. arch/x86/ (repeatable; default all)")
	fl.StringVar(&f.cc, "cc", "gcc", "the compiler crashrig cc wraps")
	return c
}

func runBisectObjects(ctx context.Context, f *bisectObjFlags, args []string, stdout, stderr io.Writer) error {
	if err := f.treeFlags.check(); err != nil {
		return err
	}
	if strings.TrimSpace(f.flags) == "" {
		return usageErr("no flags: give --flags, e.g. --flags '-fstack-check -fno-inline'")
	}
	if err := f.steps.check(); err != nil {
		return err
	}
	if err := f.run.checkRanges(); err != nil {
		return err
	}
	cfg := f.steps.cfg
	if cfg.Limit = f.run.opts.Duration.Seconds(); cfg.Limit == 0 {
		return usageErr("-d 0: a bisection needs runs of a fixed length, e.g. -d 30s")
	}
	work, out := f.dirs("objects", f.config, f.flags)
	if err := placeConfig(f.config, out); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if _, err := f.run.options(args, stderr); err != nil {
		return err
	}
	o := objbisect.BuildOptions{
		Src: absPath(f.repo), Out: out, Flags: f.flags, Only: f.only, Make: strings.Fields(f.make), Kernel: f.image,
		CC: f.cc, Self: self, Work: work, Bisect: cfg, Logf: stderrLogf(stderr), Prepare: setPrepare(&f.run, args, stderr),
	}
	b, cands, err := objbisect.NewBuilder(ctx, o)
	var bt func() time.Duration
	var extra func(io.Writer)
	if b != nil {
		bt = func() time.Duration { return b.BuildTime }
		extra = func(w io.Writer) {
			if len(b.Broken) > 0 {
				fmt.Fprintf(w, "%-14s %d objects do not build with the flags (compile or link) and stayed plain: %s\n", "left out",
					len(b.Broken), strings.Join(b.Broken, " "))
			}
		}
	}
	return runSet(ctx, cfg, b, cands, err, "objects", bt, func(s string) string { return s }, stdout, extra,
		objbisect.ErrInput)
}

// placeConfig copies the --config file to the build directory unless it is there already.
func placeConfig(config, out string) error {
	dst := filepath.Join(out, ".config")
	if config == "" {
		if _, err := os.Stat(dst); err != nil {
			return usageErr("no config: give --config FILE (the build directory %s has none)", out)
		}
		return nil
	}
	b, err := os.ReadFile(config)
	if err != nil {
		return usageErr("--config %s: %v", config, errors.Unwrap(err))
	}
	if !strings.Contains(string(b), "CONFIG_") {
		return usageErr("--config %s: not a kernel config (no CONFIG_ line)", config)
	}
	if old, err := os.ReadFile(dst); err == nil && string(old) == string(b) {
		return nil
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	return nil
}
