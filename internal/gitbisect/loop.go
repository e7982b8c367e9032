package gitbisect

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/run"
)

// loop checks the bad end, then lets git bisect pick commits until it names one.
func (b *bisection) loop(ctx context.Context, res *Result) (*Result, error) {
	if len(b.st.Steps) == 0 {
		rec, err := b.step(ctx, b.o.Bad, b.bad)
		if err != nil {
			return nil, err
		}
		if rec.Verdict != "bad" {
			return b.finish(ctx, res, nil, fmt.Sprintf("the bad end %s is %s against the good end: %s", short(b.o.Bad), rec.Verdict, rec.Reason))
		}
	} else if b.st.Steps[0].Verdict != "bad" {
		return b.finish(ctx, res, nil, "the bad end did not prove bad: "+b.st.Steps[0].Reason)
	}
	out, err := b.startGit(ctx)
	if err != nil {
		return nil, err
	}
	for {
		if e := parseEnding(out); e != nil {
			return b.finish(ctx, res, e, "")
		}
		head, err := git(ctx, b.tree, "rev-parse", "HEAD")
		if err != nil {
			return nil, err
		}
		rec, err := b.testCommit(ctx, head)
		if err != nil {
			return nil, err
		}
		if out, err = b.mark(ctx, rec); err != nil {
			return nil, err
		}
	}
}

// startGit starts git bisect and replays the steps already decided.
func (b *bisection) startGit(ctx context.Context) (string, error) {
	git(ctx, b.tree, "bisect", "reset", "--quiet")
	if err := b.checkout(ctx, b.o.Bad); err != nil {
		return "", err
	}
	out, err := gitOut(ctx, b.tree, "bisect", "start", b.o.Bad, b.o.Good)
	if err != nil {
		return "", err
	}
	for _, rec := range b.st.Steps[1:] {
		if out, err = b.mark(ctx, rec); err != nil {
			return "", err
		}
	}
	return out, nil
}

// mark tells git what a step found: an inconclusive commit is skipped.
func (b *bisection) mark(ctx context.Context, rec StepRecord) (string, error) {
	word := rec.Verdict
	if word != "good" && word != "bad" {
		word = "skip"
	}
	if _, err := git(ctx, b.tree, "reset", "--hard", "--quiet"); err != nil {
		return "", err
	}
	return bisectMark(ctx, b.tree, word, rec.Commit)
}

// testCommit builds and tests the commit checked out in the tree.
func (b *bisection) testCommit(ctx context.Context, commit string) (StepRecord, error) {
	k, err := b.kernelFor(ctx, commit)
	if errors.Is(err, errBuild) {
		rec := StepRecord{Commit: commit, Subject: b.subject(ctx, commit), Verdict: "skip", Reason: err.Error()}
		return rec, b.decided(rec)
	}
	if err != nil {
		return StepRecord{}, err
	}
	booter, err := b.o.Prepare(ctx, b.tree, k)
	if err != nil {
		if errors.Is(err, run.ErrInput) {
			rec := StepRecord{Commit: commit, Subject: b.subject(ctx, commit), Verdict: "skip", Reason: "not bootable: " + err.Error()}
			return rec, b.decided(rec)
		}
		return StepRecord{}, err
	}
	return b.step(ctx, commit, booter)
}

// step runs one step of package bisect on commit, saving the state after every run.
func (b *bisection) step(ctx context.Context, commit string, cand Booter) (StepRecord, error) {
	share := bisect.Share(1-b.conf(), b.st.Planned, len(b.st.Steps)+1)
	var prior []bisect.Sample
	if p := b.st.Pending; p != nil && p.Commit == commit {
		prior = p.Runs
		b.logf("step %d: %s: %d runs from before the interruption count", len(b.st.Steps)+1, short(commit), len(prior))
	}
	rec := &StepRecord{Commit: commit, Subject: b.subject(ctx, commit), Share: share, Runs: prior}
	b.st.Pending = rec
	b.logf("step %d: %s %s (error share %.2g)", len(b.st.Steps)+1, short(commit), rec.Subject, share)
	r := &bisect.Booters{Candidate: cand, Good: b.good, Bad: b.bad}
	var saveErr error
	onRun := func(who bisect.Role, s bisect.Sample) {
		if who == bisect.Candidate {
			rec.Runs = append(rec.Runs, s)
		}
		b.logf("  %s run: %s", who, describe(s))
		if err := b.st.save(b.statePath); err != nil && saveErr == nil {
			saveErr = err
		}
	}
	sr, err := bisect.RunStep(ctx, b.o.Bisect, share, r, &b.st.Refs, prior, onRun)
	if err != nil {
		return StepRecord{}, err
	}
	if saveErr != nil {
		return StepRecord{}, fmt.Errorf("saving %s: %w", b.statePath, saveErr)
	}
	rec.Verdict, rec.Reason, rec.VM = sr.Verdict.String(), sr.Reason, sr.VM
	return *rec, b.decided(*rec)
}

// decided appends a step to the state and the log.
func (b *bisection) decided(rec StepRecord) error {
	crashes := 0
	for _, s := range rec.Runs {
		if s.Crashed {
			crashes++
		}
	}
	b.logf("step %d: %s: %s: %s (%d runs, %d crashes, %.0f VM-s)", len(b.st.Steps)+1, short(rec.Commit), rec.Verdict,
		rec.Reason, len(rec.Runs), crashes, rec.VM)
	b.st.Steps = append(b.st.Steps, rec)
	b.st.Pending = nil
	return b.st.save(b.statePath)
}

func (b *bisection) subject(ctx context.Context, commit string) string {
	s, _ := git(ctx, b.o.Repo, "log", "-1", "--format=%s", commit)
	return s
}

// finish fills in the result and writes git's own log beside ours.
func (b *bisection) finish(ctx context.Context, res *Result, e *ending, reason string) (*Result, error) {
	res.Steps = b.st.Steps
	spent := 0.0
	for _, s := range b.st.Steps {
		res.VM += s.VM
		if s.Verdict == "good" || s.Verdict == "bad" {
			spent += s.Share
		}
	}
	res.Confidence = 1 - spent
	res.Reason = reason
	if e != nil {
		res.First, res.Could = e.first, e.could
		if e.first != "" {
			res.Subject = b.subject(ctx, e.first)
			b.logf("first bad commit: %s %s (confidence ≥ %.1f%%, %.0f VM-s)", e.first, res.Subject, 100*res.Confidence, res.VM)
		} else {
			res.Reason = "inconclusive: the first bad commit is one of " + strings.Join(e.could, " ")
			b.logf("%s", res.Reason)
		}
		if l, err := gitOut(ctx, b.tree, "bisect", "log"); err == nil {
			atomicfile.WriteBytes(filepath.Join(b.o.Work, "git-bisect.log"), 0o600, []byte(l))
		}
	} else {
		b.logf("no culprit: %s", reason)
	}
	return res, nil
}

// describe is one run in a few words.
func describe(s bisect.Sample) string {
	switch {
	case s.Status == bisect.Skip:
		return "did not boot: " + s.Note
	case s.Status == bisect.Retry:
		return "host failure (retried): " + s.Note
	case s.Crashed:
		return fmt.Sprintf("crash after %.2fs: %s", s.Time, s.Title)
	case s.Stopped:
		return fmt.Sprintf("stopped clean at %.2fs", s.Time)
	}
	return fmt.Sprintf("clean for %.2fs", s.Time)
}
