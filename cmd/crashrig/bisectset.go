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

	"github.com/spf13/pflag"

	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/run"
)

// treeFlags are the flags of the bisections that build in a kernel source tree.
type treeFlags struct {
	repo, out, make, image, work string
}

func (t *treeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&t.repo, "repo", "", "kernel source tree (read only: objects go to --out)")
	fl.StringVar(&t.out, "out", "", "build directory, reused by every build (default under --work)")
	fl.StringVar(&t.make, "make", "nice -n 15 make -j2", "make command")
	fl.StringVar(&t.image, "image", "arch/x86/boot/bzImage", "the kernel make builds, relative to --out")
	fl.StringVar(&t.work, "work", "", "directory for kernels and build logs (default under $XDG_STATE_HOME/crashrig/bisect)")
}

// check refuses a missing tree or make command.
func (t *treeFlags) check() error {
	switch {
	case t.repo == "":
		return usageErr("no kernel source: give --repo DIR")
	case strings.TrimSpace(t.make) == "":
		return usageErr("--make: want a make command")
	}
	if _, err := os.Stat(filepath.Join(t.repo, "Makefile")); err != nil {
		return usageErr("--repo %s: no Makefile there: not a kernel source tree", t.repo)
	}
	return nil
}

// dirs returns the work and build directories, absolute: the defaults are named after
// kind and what identifies the bisection.
func (t *treeFlags) dirs(kind string, ids ...string) (work, out string) {
	work = t.work
	if work == "" {
		work = filepath.Join(xdgBisectDir(), kind+"-"+shortHash(append([]string{absPath(t.repo)}, ids...)...))
	}
	out = t.out
	if out == "" {
		out = filepath.Join(work, "build")
	}
	return absPath(work), absPath(out)
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// A setTester is the builder of a set bisection (objects or config options).
type setTester interface {
	bisect.SetTester
	Builds() int
}

// setPrepare returns how a set bisection makes a built kernel bootable: the run flags
// with that kernel.
func setPrepare(rf *runFlags, args []string, stderr io.Writer) func(ctx context.Context, kernel string) (bisect.Booter, error) {
	return func(ctx context.Context, kernel string) (bisect.Booter, error) {
		ro, err := rf.options(args, stderr)
		if err != nil {
			return nil, err
		}
		ro.Kernel, ro.Logf = kernel, nil
		return run.Prepare(ctx, ro)
	}
}

func stderrLogf(stderr io.Writer) func(format string, a ...any) {
	return func(format string, a ...any) { fmt.Fprintf(stderr, "crashrig: "+format+"\n", a...) }
}

// runSet searches items with the builder b (or reports why b could not be made), prints
// the result with what (e.g. "objects") naming the items, and returns the exit status.
// input lists the errors that are the user's input.
func runSet(ctx context.Context, cfg bisect.Config, b setTester, items []string, err error, what string,
	buildTime func() time.Duration, item func(string) string, stdout io.Writer, extra func(io.Writer), input ...error) error {
	if err == nil {
		var res bisect.SetResult
		if res, err = bisect.Minimal(ctx, cfg, items, b); err == nil {
			printSet(stdout, res, len(items), what, b.Builds(), buildTime(), item)
			if extra != nil {
				extra(stdout)
			}
			if !res.Exact {
				return &exitError{code: exitInconclusive}
			}
			return nil
		}
	}
	switch {
	case ctx.Err() != nil:
		return &exitError{code: 130, err: errors.New("interrupted")}
	case run.IsInput(err):
		return &exitError{code: exitUsage, err: err}
	}
	for _, in := range input {
		if errors.Is(err, in) {
			return &exitError{code: exitUsage, err: err}
		}
	}
	return &exitError{code: exitInfra, err: err}
}

// printSet writes the culprits (or the candidates left) with the confidence, then the cost
// and every step.
func printSet(w io.Writer, r bisect.SetResult, n int, what string, builds int, buildTime time.Duration, item func(string) string) {
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%-14s %s\n", k, fmt.Sprintf(format, a...)) }
	if r.Exact {
		row("culprits", "%d of %d %s, confidence at least %.1f%%", len(r.Culprits), n, what, 100*r.Confidence)
	} else {
		row("inconclusive", "%s", r.Reason)
		row("candidates", "%d of %d %s left", len(r.Culprits), n, what)
	}
	for _, c := range r.Culprits {
		row("", "%s", item(c))
	}
	runs := 0
	for _, s := range r.Steps {
		runs += len(s.Runs)
	}
	row("cost", "%d kernels built in %s, %d steps, %d candidate runs, %.0f VM-s", builds, buildTime.Round(time.Second),
		len(r.Steps), runs, r.VM)
	for i, s := range r.Steps {
		row(fmt.Sprintf("  %d", i+1), "%d %s: %s: %s", len(s.Set), what, s.Verdict, s.Reason)
	}
}
