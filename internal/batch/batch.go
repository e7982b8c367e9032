// Package batch drives many runs: up to Jobs VMs at once, each started when
// a Policy says another run is wanted, until the Policy says enough (a run
// count, a crash, a VM-time budget, a statistical decision) or the context
// is cancelled.
//
// Workers only start VMs and send results back; one collector goroutine
// owns all state — it asks the Policy what to run next, records every run
// through a Recorder, and feeds the Progress display — so nothing needs a
// lock. Cancelling the context stops the runs in flight: their VMs are
// killed and they are recorded as interrupted, never as passes.
package batch

import (
	"context"
	"fmt"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A Booter boots one run of a variant. *run.Plan is one.
type Booter interface {
	Boot(ctx context.Context) (*record.Run, error)
}

// A Policy decides what runs next. The collector calls it from one
// goroutine only.
type Policy interface {
	// Next returns the run to start now, or ok=false when no further run
	// should start (runs in flight still finish). inFlight counts the
	// running VMs per variant; spent is the VM-time used so far, finished
	// runs and running ones.
	Next(inFlight []int, spent time.Duration) (t Ticket, ok bool)
	// Observe takes a finished run (interrupted ones included: a policy
	// must not count them); done=true ends the batch at once and stops the
	// runs in flight.
	Observe(t Ticket, r *record.Run) (done bool)
}

// A Ticket names one run a Policy asked for.
type Ticket struct {
	Variant int
	Seq     int // the policy's own number for the run
}

// A ControlledBooter can be told to end a run early; *run.Plan is one.
type ControlledBooter interface {
	BootControlled(ctx context.Context, ctl *run.Control) (*record.Run, error)
}

// An EarlyStopper is a Policy that can say when a running run stops
// mattering: after that many seconds of reproducer time.
type EarlyStopper interface {
	StopAfter(t Ticket) (seconds float64, ok bool)
}

// A Recorder keeps runs as they start and end (package store is one).
type Recorder interface {
	Started(variant int) (id int64, err error)
	Finished(id int64, variant int, r *record.Run) error
}

// Progress shows the batch to the user. Every call comes from the collector.
type Progress interface {
	Started(slot, variant int, id int64)
	Finished(slot, variant int, id int64, r *record.Run)
	Close()
}

// Options configure a batch.
type Options struct {
	Jobs     int      // VMs at once (0 = 1)
	Variants []Booter // what each variant boots
	Policy   Policy
	Recorder Recorder // nil = keep nothing
	Progress Progress // nil = silent
	Now      func() time.Time
}

// A Tally is what a batch did.
type Tally struct {
	Results     [][]*record.Run // per variant, in finishing order (interrupted runs included)
	Interrupted int
	Spent       time.Duration // VM-time
	Errors      []error       // runs crashrig could not perform
	HostFailed  bool          // stopped after MaxHostFailures infra-fail verdicts in a row
}

// MaxHostFailures is how many boots in a row may fail on the host (infra-fail) before a
// batch stops instead of trying again.
const MaxHostFailures = 5

type done struct {
	slot   int
	ticket Ticket
	id     int64
	res    *record.Run
	err    error
	took   time.Duration
}

// Run performs the batch.
func Run(ctx context.Context, o Options) (*Tally, error) {
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	sum := &Tally{Results: make([][]*record.Run, len(o.Variants))}
	results := make(chan done)
	inFlight := make([]int, len(o.Variants))
	started := make(map[int]time.Time) // slot -> start
	running := make(map[int]Ticket)    // slot -> ticket
	controls := make(map[int]*run.Control)
	free := make([]int, 0, o.Jobs)
	for s := o.Jobs - 1; s >= 0; s-- {
		free = append(free, s)
	}
	var spentDone time.Duration
	spent := func() time.Duration {
		t := spentDone
		for _, st := range started {
			t += o.Now().Sub(st)
		}
		return t
	}
	finished := false
	hostFails := 0 // infra-fail verdicts in a row
	for {
		// Fill free slots while the policy wants more.
		for !finished && len(free) > 0 && ctx.Err() == nil {
			t, ok := o.Policy.Next(inFlight, spent())
			if !ok {
				break
			}
			v := t.Variant
			slot := free[len(free)-1]
			free = free[:len(free)-1]
			var id int64
			if o.Recorder != nil {
				var err error
				if id, err = o.Recorder.Started(v); err != nil {
					stop()
					return sum, fmt.Errorf("recording a run start: %w", err)
				}
			}
			inFlight[v]++
			started[slot] = o.Now()
			if o.Progress != nil {
				o.Progress.Started(slot, v, id)
			}
			ctl := &run.Control{}
			running[slot], controls[slot] = t, ctl
			go func(slot int, t Ticket, id int64) {
				t0 := time.Now()
				var res *record.Run
				var err error
				if cb, ok := o.Variants[t.Variant].(ControlledBooter); ok {
					res, err = cb.BootControlled(runCtx, ctl)
				} else {
					res, err = o.Variants[t.Variant].Boot(runCtx)
				}
				results <- done{slot: slot, ticket: t, id: id, res: res, err: err, took: time.Since(t0)}
			}(slot, t, id)
		}
		if len(started) == 0 {
			break
		}
		d := <-results
		delete(started, d.slot)
		delete(running, d.slot)
		delete(controls, d.slot)
		free = append(free, d.slot)
		v := d.ticket.Variant
		inFlight[v]--
		if d.err != nil {
			sum.Errors = append(sum.Errors, d.err)
			d.res = &record.Run{Outcome: verdict.Outcome{Verdict: verdict.InfraFail, Reason: d.err.Error()}}
		}
		spentDone += time.Duration(d.res.Wall * float64(time.Second))
		if d.res.Wall == 0 {
			spentDone += d.took
		}
		if d.res.Verdict == verdict.Interrupted {
			sum.Interrupted++
		}
		sum.Results[v] = append(sum.Results[v], d.res)
		if o.Recorder != nil {
			if err := o.Recorder.Finished(d.id, v, d.res); err != nil {
				stop()
				sum.Errors = append(sum.Errors, fmt.Errorf("recording run %d: %w", d.id, err))
			}
		}
		if o.Progress != nil {
			o.Progress.Finished(d.slot, v, d.id, d.res)
		}
		if o.Policy.Observe(d.ticket, d.res) && !finished {
			finished = true
			stop() // the decision is made: runs in flight are not needed
		}
		if es, ok := o.Policy.(EarlyStopper); ok {
			for slot, t := range running {
				if at, ok := es.StopAfter(t); ok {
					controls[slot].StopAt(at)
				}
			}
		}
		if len(sum.Errors) > 3 && len(sum.Errors) == countAll(sum) {
			finished = true // crashrig cannot run anything: do not loop
		}
		if d.res.Verdict == verdict.InfraFail {
			hostFails++
		} else if d.res.Verdict != verdict.Interrupted {
			hostFails = 0
		}
		if hostFails >= MaxHostFailures && !finished {
			// The host fails every boot: retrying would loop for ever (a comparison
			// hands a failed run's place to the next), and no verdict is the kernel's.
			finished = true
			stop()
			sum.Errors = append(sum.Errors, fmt.Errorf("the last %d boots all failed on the host (%s): stopping; fix the host and run the same command again",
				hostFails, d.res.Reason))
			sum.HostFailed = true
		}
	}
	sum.Spent = spentDone
	if sum.HostFailed {
		return sum, sum.Errors[len(sum.Errors)-1]
	}
	if len(sum.Errors) > 0 && countAll(sum) == len(sum.Errors) {
		return sum, sum.Errors[0]
	}
	return sum, nil
}

func countAll(s *Tally) int {
	n := 0
	for _, r := range s.Results {
		n += len(r)
	}
	return n
}
