package story

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/objbisect"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/run"
)

// bisect builds the probed kernel's tree with the probe flags on the candidates and
// halves them until the objects that make it crash are left.
func (t *teller) bisect(ctx context.Context) (*stageState, *report.Model, error) {
	if s, ok := t.done("bisect"); ok {
		return s, nil, nil
	}
	tree, flags := t.value("kernels", "tree"), t.value("kernels", "flags")
	src := filepath.Join(tree, "src")
	if _, err := os.Stat(filepath.Join(src, "Makefile")); err != nil {
		return nil, nil, fmt.Errorf("the kernels' source tree %s is gone (the build command keeps it): %w", src, err)
	}
	// The build command uses the same tree: hold its lock while the bisection builds.
	unlock, err := lockFile(filepath.Join(tree, "lock"))
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	out := filepath.Join(tree, "build")
	if err := allowSectionMismatches(filepath.Join(out, ".config")); err != nil {
		return nil, nil, err
	}
	cfg := bisect.Config{Limit: 20}
	o := objbisect.BuildOptions{Src: src, Out: out, Flags: flags, Only: t.o.Only, Make: []string{"nice", "-n", "15", "make", "-j2"},
		Self: t.o.Self, Work: filepath.Join(t.o.Out, "bisect"), Bisect: cfg, Logf: t.o.Logf,
		Prepare: func(ctx context.Context, kernel string) (objbisect.Booter, error) {
			return run.Prepare(ctx, t.opts(kernel, "vdsostack", 20*time.Second))
		}}
	b, cands, err := objbisect.NewBuilder(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	res, err := bisect.Minimal(ctx, cfg, cands, b)
	if err != nil {
		return nil, nil, err
	}
	ss := &stageState{VM: res.VM, Expected: res.Exact && slices.Equal(res.Culprits, []string{Culprit})}
	if res.Exact {
		ss.Outcome = fmt.Sprintf("%s, confidence at least %.1f%%", strings.Join(res.Culprits, " "), 100*res.Confidence)
	} else {
		ss.Outcome = fmt.Sprintf("inconclusive: %s (%d candidates left)", res.Reason, len(res.Culprits))
	}
	scope := "every C object of the kernel"
	if len(t.o.Only) > 0 {
		scope = "the C objects under " + strings.Join(t.o.Only, ", ")
	}
	ss.Facts = append(ss.Facts,
		fmt.Sprintf("candidates: %d, %s, with %q added by crashrig's compiler wrapper (a link named gcc first in the build's PATH) "+
			"to the objects a hash pattern selects", len(cands), scope, flags),
		fmt.Sprintf("%d kernels built in %s in one tree (only objects whose flags change are rebuilt), %d steps, %.0f VM-s",
			b.Builds(), b.BuildTime.Round(time.Second), len(res.Steps), res.VM),
		"oracle: vdsostack, 20 s runs; each step is decided against both ends with its share of the 95 % error budget")
	if len(b.Broken) > 0 {
		ss.Facts = append(ss.Facts, fmt.Sprintf("%d objects do not build with the flags (compile or link) and stayed plain: %s",
			len(b.Broken), bisect.Abbreviate(b.Broken)))
	}
	var steps strings.Builder
	for i, s := range res.Steps {
		fmt.Fprintf(&steps, "%2d  %4d objects  %-12s %3d runs  %5.0f VM-s  %s\n", i+1, len(s.Set), s.Verdict, len(s.Runs), s.VM, s.Reason)
		if len(s.Set) <= 4 {
			fmt.Fprintf(&steps, "    %s\n", strings.Join(s.Set, " "))
		}
	}
	ss.Blocks = append(ss.Blocks, report.Block{Caption: "the bisection's steps: the objects with the flags, the verdict, the runs", Text: steps.String()})
	return ss, nil, nil
}

// allowSectionMismatches sets CONFIG_SECTION_MISMATCH_WARN_ONLY in the build's config: a
// modpost check only, the kernel it builds is the same. With -fno-inline, code that
// inlining folded into __init callers stays out of line, and modpost would refuse the link.
func allowSectionMismatches(config string) error {
	data, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	text := strings.Replace(string(data), "# CONFIG_SECTION_MISMATCH_WARN_ONLY is not set", "CONFIG_SECTION_MISMATCH_WARN_ONLY=y", 1)
	if text == string(data) {
		return nil
	}
	return os.WriteFile(config, []byte(text), 0o644)
}

// lockFile takes an exclusive flock on path, as flock(1) in the build script does.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// summary is the story's conclusion in a few lines.
func (t *teller) summary(ok bool) []string {
	var out []string
	if ok {
		out = append(out, "Every stage came out as the story predicts.")
	} else {
		var off []string
		for _, s := range t.story.Stages {
			if !s.Expected {
				off = append(off, s.Title)
			}
		}
		out = append(out, "Not every stage came out as the story predicts: "+strings.Join(off, "; ")+".")
	}
	for _, s := range t.story.Stages {
		out = append(out, s.Title+": "+s.Outcome)
	}
	return out
}
