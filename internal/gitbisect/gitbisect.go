// Package gitbisect finds the commit that made a reproducer crash: it drives git bisect
// in a worktree of its own (the user's checkout is never touched), builds each commit
// with the user's command, caches kernels by commit and config, and decides each commit
// with a step of package bisect against the good and the bad end.
//
// Everything lives under Options.Work: tree/ (the worktree), kernels/ (one directory per
// commit and config: bzImage, build.log, or "failed"), state.json (rewritten after every
// run, so a bisection killed at any point resumes when run again with the same options)
// and bisect.log (every step, its runs and its decision). A commit that does not build,
// or whose kernel does not boot, is skipped; a step that runs out of budget is marked
// skip in git too and named inconclusive in the log.
package gitbisect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/bisect"
)

// ErrInput marks errors in what the caller asked for (a missing repository, an unknown
// commit, a bad end that does not build).
var ErrInput = errors.New("bad input")

// A Booter boots one run of a prepared kernel; *run.Plan is one.
type Booter = bisect.Booter

// Options configure a bisection.
type Options struct {
	Repo       string // the user's repository (read only: a worktree is added to it)
	Good, Bad  string // commits, as git names them
	Build      string // shell command run in the tree to build a kernel
	Kernel     string // the built kernel: a path relative to the tree, or absolute
	ConfigFile string // copied to .config in the tree before every build ("" = none)
	Key        string // what else identifies the bisection (reproducer, run flags)
	Work       string // directory for the worktree, kernels, state and log
	Bisect     bisect.Config
	// Prepare makes a kernel bootable with the reproducer, reading the tree as checked
	// out now (the reproducer may be a path inside it).
	Prepare func(ctx context.Context, tree, kernel string) (Booter, error)
	Logf    func(format string, a ...any) // progress, one line each (nil = none)
}

// A Result is where a bisection ended.
type Result struct {
	First      string   // the first bad commit, when one is named
	Could      []string // the commits it could be, when skipped or inconclusive ones are left
	Subject    string   // First's subject line
	Steps      []StepRecord
	VM         float64 // VM seconds of all runs, both ends included
	Confidence float64 // the culprit is right with at least this probability
	Reason     string  // why no culprit is named, when none is
	Log        string  // bisect.log
	Resumed    bool
}

// bisection is one run of Bisect.
type bisection struct {
	o         Options
	tree      string
	statePath string
	cfgHash   string
	st        *State
	logFile   *os.File
	good, bad Booter
}

// Bisect runs (or resumes) the bisection.
func Bisect(ctx context.Context, o Options) (*Result, error) {
	b, err := start(ctx, o)
	if err != nil {
		return nil, err
	}
	defer b.logFile.Close()
	return b.run(ctx)
}

func start(ctx context.Context, o Options) (*bisection, error) {
	if st, err := os.Stat(o.Repo); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: --repo %s: not a directory", ErrInput, o.Repo)
	}
	top, err := git(ctx, o.Repo, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%w: --repo %s: not a git repository", ErrInput, o.Repo)
	}
	b := &bisection{o: o}
	b.o.Repo = top
	if b.o.Work, err = filepath.Abs(o.Work); err != nil {
		return nil, err
	}
	o.Work = b.o.Work
	for _, e := range []struct {
		flag string
		ref  *string
	}{{"--good", &b.o.Good}, {"--bad", &b.o.Bad}} {
		sha, err := git(ctx, top, "rev-parse", "--verify", "--quiet", *e.ref+"^{commit}")
		if err != nil || sha == "" {
			return nil, fmt.Errorf("%w: %s %s: no such commit in %s", ErrInput, e.flag, *e.ref, top)
		}
		*e.ref = sha
	}
	if _, err := git(ctx, top, "merge-base", "--is-ancestor", b.o.Good, b.o.Bad); err != nil {
		return nil, fmt.Errorf("%w: --good %s is not an ancestor of --bad %s", ErrInput, short(b.o.Good), short(b.o.Bad))
	}
	if b.cfgHash, err = fileHash(o.ConfigFile); err != nil {
		return nil, fmt.Errorf("%w: --config: %v", ErrInput, err)
	}
	b.cfgHash = hashOf(b.cfgHash, o.Build, o.Kernel)
	if err := os.MkdirAll(o.Work, 0o700); err != nil {
		return nil, err
	}
	b.tree, b.statePath = filepath.Join(o.Work, "tree"), filepath.Join(o.Work, "state.json")
	if b.logFile, err = os.OpenFile(filepath.Join(o.Work, "bisect.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

func hashOf(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

func (b *bisection) logf(format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	fmt.Fprintf(b.logFile, "%s %s\n", time.Now().UTC().Format(time.RFC3339), line)
	if b.o.Logf != nil {
		b.o.Logf("%s", line)
	}
}

func (b *bisection) run(ctx context.Context) (*Result, error) {
	key := hashOf(b.o.Repo, b.o.Good, b.o.Bad, b.cfgHash, b.o.Key)
	st, err := loadState(b.statePath)
	if err != nil {
		return nil, err
	}
	res := &Result{Log: b.logFile.Name()}
	if st != nil && st.Key != key {
		return nil, fmt.Errorf("%w: %s holds another bisection (other commits, build, kernel or reproducer): use another --work or delete it",
			ErrInput, b.o.Work)
	}
	if st == nil {
		n, err := git(ctx, b.o.Repo, "rev-list", "--count", b.o.Good+".."+b.o.Bad)
		if err != nil {
			return nil, err
		}
		count, _ := strconv.Atoi(n)
		st = &State{Key: key, Good: b.o.Good, Bad: b.o.Bad, Planned: bisect.ExpectedSteps(count)}
		b.logf("bisecting %d commits from good %s to bad %s: %d steps planned at %.0f%% confidence",
			count, short(b.o.Good), short(b.o.Bad), st.Planned, 100*b.conf())
	} else {
		res.Resumed = true
		b.logf("resuming: %d steps decided, %d good and %d bad reference runs kept", len(st.Steps), len(st.Refs.Good), len(st.Refs.Bad))
	}
	b.st = st
	if err := b.worktree(ctx); err != nil {
		return nil, err
	}
	if err := b.prepareEnds(ctx); err != nil {
		return nil, err
	}
	return b.loop(ctx, res)
}

func (b *bisection) conf() float64 {
	if b.o.Bisect.Confidence == 0 {
		return bisect.DefaultConfidence
	}
	return b.o.Bisect.Confidence
}

// worktree adds the private worktree, or takes the one a killed bisection left.
func (b *bisection) worktree(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(b.tree, ".git")); err == nil {
		git(ctx, b.tree, "bisect", "reset", "--quiet")
		return nil
	}
	git(ctx, b.o.Repo, "worktree", "prune")
	if _, err := git(ctx, b.o.Repo, "worktree", "add", "--detach", "--force", b.tree, b.o.Bad); err != nil {
		return fmt.Errorf("adding the bisection's worktree: %w", err)
	}
	return nil
}

// checkout puts commit in the tree, dropping what a build changed in tracked files.
func (b *bisection) checkout(ctx context.Context, commit string) error {
	if _, err := git(ctx, b.tree, "reset", "--hard", "--quiet"); err != nil {
		return err
	}
	_, err := git(ctx, b.tree, "checkout", "--quiet", "--detach", commit)
	return err
}

// prepareEnds builds (or takes from the cache) and prepares the good and the bad end.
func (b *bisection) prepareEnds(ctx context.Context) error {
	for _, e := range []struct {
		name   string
		commit string
		dst    *Booter
	}{{"good", b.o.Good, &b.good}, {"bad", b.o.Bad, &b.bad}} {
		if err := b.checkout(ctx, e.commit); err != nil {
			return err
		}
		k, err := b.kernelFor(ctx, e.commit)
		if errors.Is(err, errBuild) {
			return fmt.Errorf("%w: the %s end %s: %v", ErrInput, e.name, short(e.commit), err)
		}
		if err != nil {
			return err
		}
		if *e.dst, err = b.o.Prepare(ctx, b.tree, k); err != nil {
			return fmt.Errorf("preparing the %s end %s: %w", e.name, short(e.commit), err)
		}
	}
	return nil
}
