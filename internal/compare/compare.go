// Package compare runs two or more variants of a run configuration side by
// side — other kernels, command lines, vCPU counts, reproducer flags — and
// stops as soon as a sequential test (package sequential) can say which
// crashes more, or that they do not differ by the effect asked for.
//
// Runs are interleaved (A, B, A, B… across the VM slots) so that host load
// and time of day hit every variant alike. Every run is recorded in the
// results database under one session, so a comparison cut short by Ctrl-C
// or kill -9 resumes where it was when the same command is run again, and
// with Reuse earlier runs of identical configurations count too.
package compare

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A Variant is one side of a comparison.
type Variant struct {
	Name   string
	Plan   *run.Plan
	Config record.Config
}

// Options configure a comparison.
type Options struct {
	Variants []Variant
	Test     sequential.Config // Variants, Limit are filled in from the variants
	Jobs     int
	Reuse    bool // count earlier runs of identical configurations from other sessions
	DB       *store.DB
	Args     []string // the command line, kept with the session
	// Session continues this session, decided or not, when it is the same comparison
	// (else, and for 0: the newest undecided session of the same comparison, or a new
	// one). A decided session replays its runs and returns its decision without booting.
	Session  int64
	Progress batch.Progress
	Logf     func(format string, a ...any)
}

// A Conclusion is what a comparison found: its session, its decisions and the runs it made.
type Conclusion struct {
	Session   int64
	Resumed   int   // runs taken over from an interrupted session of the same comparison
	Reused    []int // runs per variant that came from earlier sessions
	Decisions []sequential.Decision
	Summary   *batch.Tally
}

// key identifies a comparison: the same variants and the same test.
func key(o Options) string {
	h := sha256.New()
	for _, v := range o.Variants {
		fmt.Fprintf(h, "%s=%s\x00", v.Name, v.Config.Hash())
	}
	t := o.Test
	fmt.Fprintf(h, "%g %g %g %d %q %d", t.Alpha, t.Beta, t.MinRatio, t.Method, t.Title, t.FixedRuns)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Run performs the comparison.
func Run(ctx context.Context, o Options) (*Conclusion, error) {
	names := make([]string, len(o.Variants))
	for i, v := range o.Variants {
		names[i] = v.Name
	}
	o.Test.Variants = names
	if o.Test.Limit == 0 && len(o.Variants) > 0 {
		o.Test.Limit = o.Variants[0].Plan.Opts.Duration.Seconds()
	}
	cmp, err := sequential.New(o.Test)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", run.ErrInput, err)
	}
	k := key(o)
	out := &Conclusion{Reused: make([]int, len(o.Variants))}
	sess, err := o.session(k)
	if err != nil {
		return nil, err
	}
	out.Session = sess
	if err := o.replay(cmp, sess, k, out); err != nil {
		return nil, err
	}
	rec := &store.Recorder{DB: o.DB, Session: sess}
	booters := make([]batch.Booter, len(o.Variants))
	for i, v := range o.Variants {
		rec.Configs = append(rec.Configs, v.Config)
		booters[i] = v.Plan
	}
	pol := &policy{cmp: cmp}
	sum, err := batch.Run(ctx, batch.Options{Jobs: o.Jobs, Variants: booters, Policy: pol, Recorder: rec, Progress: o.Progress})
	if err != nil {
		return nil, err
	}
	out.Summary = sum
	out.Decisions = cmp.Decisions()
	if cmp.Done() && !anyUndecided(out.Decisions) {
		o.DB.SetSessionMeta(sess, "decided", decisionText(out.Decisions))
		o.DB.EndSession(sess)
	}
	return out, nil
}

// session resumes the newest undecided session of the same comparison, or
// begins a new one.
func (o Options) session(k string) (int64, error) {
	if o.Session > 0 {
		if s, err := o.DB.Session(o.Session); err == nil && s.Kind == "compare" && s.Meta["key"] == k {
			return s.ID, nil
		}
	}
	sessions, err := o.DB.Sessions(50)
	if err != nil {
		return 0, err
	}
	for _, s := range sessions {
		if s.Kind == "compare" && s.Meta["key"] == k && s.Meta["decided"] == "" {
			o.logf("continuing comparison session %d, which is not decided yet (its runs count)", s.ID)
			return s.ID, nil
		}
	}
	s, err := o.DB.BeginSession("compare", strings.Join(variantNames(o), " vs "), o.Args)
	if err != nil {
		return 0, err
	}
	return s.ID, o.DB.SetSessionMeta(s.ID, "key", k)
}

func variantNames(o Options) []string {
	var n []string
	for _, v := range o.Variants {
		n = append(n, v.Name)
	}
	return n
}

// replay feeds the comparison what is known already: this session's
// finished runs (a resumed comparison) and, with Reuse, runs of the same
// configurations from other sessions.
func (o Options) replay(cmp *sequential.Comparison, sess int64, k string, out *Conclusion) error {
	for i, v := range o.Variants {
		recs, err := o.DB.Runs(store.Query{ConfigHash: v.Config.Hash()})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Status != "done" {
				continue
			}
			mine := r.SessionID == sess && r.Config.Variant == v.Name
			if !mine && !o.Reuse {
				continue
			}
			for _, res := range observations(i, r) {
				if err := cmp.Record(res); err != nil {
					return err
				}
			}
			if mine {
				out.Resumed++
			} else {
				out.Reused[i]++
			}
		}
	}
	return nil
}

// observations turns one stored run into the test's observations: one per iteration
// that ended in a pass, a crash or a hang.
func observations(variant int, r store.RunRecord) []sequential.Observation {
	var out []sequential.Observation
	for _, it := range r.Iterations {
		res, ok := toObservation(variant, it.Verdict, it.Title, it.TimeToCrash, it.Ran, 0)
		if ok {
			out = append(out, res)
		}
	}
	if len(out) > 0 {
		out[len(out)-1].VMTime = r.Wall
	}
	return out
}

func toObservation(variant int, v verdict.Verdict, title string, ttc, ran, wall float64) (sequential.Observation, bool) {
	res := sequential.Observation{Ticket: sequential.Ticket{Variant: variant}, VMTime: wall}
	switch v {
	case verdict.Crash:
		res.Crashed, res.Exposure, res.Title = true, ttc, title
	case verdict.Hang:
		res.Crashed, res.Exposure, res.Title = true, ran, "hang"
	case verdict.Pass, verdict.Stopped:
		res.Exposure, res.Stopped, res.Ended = ran, v == verdict.Stopped, v == verdict.Pass
	default:
		return res, false
	}
	return res, true
}

func (o Options) logf(format string, a ...any) {
	if o.Logf != nil {
		o.Logf(format, a...)
	}
}

// policy adapts a sequential.Comparison to batch.Policy.
type policy struct {
	cmp *sequential.Comparison
}

func (p *policy) Next([]int, time.Duration) (batch.Ticket, bool) {
	t, ok := p.cmp.Next()
	return batch.Ticket{Variant: t.Variant, Seq: t.Seq}, ok
}

// StopAfter implements batch.EarlyStopper.
func (p *policy) StopAfter(t batch.Ticket) (float64, bool) {
	return p.cmp.StopAfter(sequential.Ticket{Variant: t.Variant, Seq: t.Seq})
}

func (p *policy) Observe(t batch.Ticket, r *record.Run) bool {
	st := sequential.Ticket{Variant: t.Variant, Seq: t.Seq}
	// A boot holds one or more iterations; the first that did not pass
	// decides how long the reproducer was exposed.
	its := r.Iterations
	if len(its) == 0 {
		p.cmp.Cancel(st)
		return p.cmp.Done()
	}
	recorded := false
	for i, it := range its {
		res, ok := toObservation(t.Variant, it.Verdict, it.Title, it.TimeToCrash, it.Ran, 0)
		if !ok {
			continue
		}
		if !recorded {
			res.Ticket = st
		}
		if i == len(its)-1 {
			res.VMTime = r.Wall
		}
		if err := p.cmp.Record(res); err == nil {
			recorded = true
		}
	}
	if !recorded {
		p.cmp.Cancel(st)
	}
	return p.cmp.Done()
}

// anyUndecided reports whether a budget ended some comparison before its test did: the
// session stays open, and the same command with a larger budget continues it.
func anyUndecided(ds []sequential.Decision) bool {
	for _, d := range ds {
		if d.Outcome == sequential.Undecided {
			return true
		}
	}
	return false
}

// decisionText is a one-line account of the decisions.
func decisionText(ds []sequential.Decision) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Headline())
	}
	return strings.Join(s, "; ")
}
