package bisect

import (
	"context"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/verdict"
)

// SampleOf turns a boot into a Sample: a crash or a hang is a crash; a pass or a run
// stopped on request is clean for as long as the reproducer ran; a boot failure skips the
// candidate; a host failure is retried. Only the first iteration counts.
func SampleOf(r *record.Run) Sample {
	s := Sample{VM: r.Wall, Title: r.Title, Note: r.Reason}
	ran := r.TimeToCrash
	if len(r.Iterations) > 0 {
		it := r.Iterations[0]
		ran = it.Ran
		if it.Verdict == verdict.Crash {
			ran = it.TimeToCrash
		}
	}
	s.Time = ran
	switch r.Verdict {
	case verdict.Crash:
		s.Crashed = true
		s.Time = r.TimeToCrash
	case verdict.Hang:
		s.Crashed, s.Title = true, "hang"
	case verdict.Pass:
		s.Ended = r.Duration > 0 && ran < r.Duration*0.99
	case verdict.Stopped:
		s.Stopped = true
	case verdict.BootFail:
		s.Status = Skip
	default:
		s.Status = Retry
	}
	return s
}

// A Booter boots one run of a prepared kernel; *run.Plan is one.
type Booter interface {
	BootControlled(ctx context.Context, ctl *run.Control) (*record.Run, error)
}

// Booters is the Runner of real boots: one prepared kernel per role.
type Booters struct {
	Candidate, Good, Bad Booter
}

// Run implements Runner. A boot crashrig could not perform is a host failure (Retry).
func (b *Booters) Run(ctx context.Context, who Role, stopAt float64) (Sample, error) {
	bt := b.Candidate
	switch who {
	case GoodSide:
		bt = b.Good
	case BadSide:
		bt = b.Bad
	}
	ctl := &run.Control{}
	if stopAt > 0 {
		ctl.StopAt(stopAt)
	}
	res, err := bt.BootControlled(ctx, ctl)
	if ctx.Err() != nil {
		return Sample{}, ctx.Err()
	}
	if err != nil {
		return Sample{Status: Retry, Note: err.Error()}, nil
	}
	return SampleOf(res), nil
}
