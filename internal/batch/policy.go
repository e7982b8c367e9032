package batch

import (
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

// Repeat is the policy of `crashrig run -n N`: one variant, run N times
// (0 = no count limit), optionally stopping at the first crash, within a
// VM-time budget (0 = none). With neither a count nor a budget it runs
// once.
type Repeat struct {
	Runs       int
	UntilCrash bool
	Budget     time.Duration
	RunLength  time.Duration // expected VM-time of one run, to not start one the budget cannot cover (0 = start anyway)

	started, finished int
	crashed           bool
}

// Next implements Policy.
func (p *Repeat) Next(inFlight []int, spent time.Duration) (Ticket, bool) {
	limit := p.Runs
	if limit == 0 && p.Budget == 0 && !p.UntilCrash {
		limit = 1
	}
	switch {
	case p.crashed && p.UntilCrash:
		return Ticket{}, false
	case limit > 0 && p.started >= limit:
		return Ticket{}, false
	case p.Budget > 0 && spent >= p.Budget:
		return Ticket{}, false
	case p.Budget > 0 && p.RunLength > 0 && p.started > p.finished && spent+time.Duration(p.started-p.finished)*p.RunLength/2 >= p.Budget:
		return Ticket{}, false
	}
	p.started++
	return Ticket{Seq: p.started}, true
}

// Observe implements Policy.
func (p *Repeat) Observe(_ Ticket, r *record.Run) bool {
	p.finished++
	if r.Verdict == verdict.Interrupted {
		return false
	}
	if r.Verdict == verdict.Crash {
		p.crashed = true
		return p.UntilCrash
	}
	return false
}
