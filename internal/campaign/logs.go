package campaign

import (
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A LogRecorder keeps the batch's console logs within a disk budget: a
// crash's (or any other failure's) log is kept whole, a pass's is trimmed
// to its head and tail. Passes share half the budget equally; the other half
// is left for the logs kept whole.
type LogRecorder struct {
	store.Recorder
	passCap int64 // 0 = the store's default cap for every log
}

// WholeLogCap bounds the logs kept whole all the same.
const WholeLogCap = 256 << 20

// SetBudget shares budget bytes among the runs to make (0 = no budget).
func (r *LogRecorder) SetBudget(budget int64, runs int) {
	if budget <= 0 || runs <= 0 {
		return
	}
	r.passCap = min(max(budget/int64(2*runs), 16<<10), store.DefaultLogCap)
}

// Finished implements batch.Recorder.
func (r *LogRecorder) Finished(id int64, v int, res *record.Run) error {
	if r.passCap > 0 {
		r.DB.LogCap = WholeLogCap
		if res.Verdict == verdict.Pass || res.Verdict == verdict.Stopped {
			r.DB.LogCap = r.passCap
		}
		defer func() { r.DB.LogCap = 0 }()
	}
	return r.Recorder.Finished(id, v, res)
}
