package store

import (
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A Recorder records the runs of one session as they start and end, one
// Config per variant. Every command that runs VMs records through it (it is
// the batch scheduler's Recorder).
type Recorder struct {
	DB      *DB
	Session int64
	Configs []record.Config
}

// Started records that a run of the variant began and returns its id.
func (r *Recorder) Started(variant int) (int64, error) {
	return r.DB.StartRun(r.Session, r.Configs[variant])
}

// Finished records how a run ended; a run cut short is marked interrupted,
// never recorded as a result.
func (r *Recorder) Finished(id int64, _ int, res *record.Run) error {
	if res.Verdict == verdict.Interrupted {
		return r.DB.MarkInterrupted(id)
	}
	return r.DB.FinishRun(id, res)
}
