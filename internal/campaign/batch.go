package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/plan"
	"github.com/crashrig/crashrig/internal/store"
)

// Batch session states (the session's meta "state").
const (
	StateRunning     = "running"
	StateComplete    = "complete"
	StateDeadline    = "cut by the deadline"
	StateBudget      = "cut by the budget"
	StateInterrupted = "interrupted"
	StateHostFailed  = "stopped: the host failed every boot"
)

// ErrUnfinished is returned by Begin when the last batch of the plan was
// killed or interrupted and neither resuming nor re-running was asked for.
var ErrUnfinished = errors.New("the last batch of this plan stopped before it finished")

// A Batch is one run of a plan's cells recorded as one store session.
type Batch struct {
	DB    *store.DB
	Plan  *plan.Plan
	Shard plan.Shard
	Tag   string // names this batch among batches of the plan (shards of one batch share it)
	Cells []*Cell
	Arms  []Arm
	Logf  func(format string, a ...any)

	Session int64   // 0 until Begin; 0 after it when there was nothing to resume
	Policy  *Policy // set by Run
}

func (b *Batch) logf(format string, a ...any) {
	if b.Logf != nil {
		b.Logf(format, a...)
	}
}

// planSessions are the batch sessions of the plan, tag and shard, newest first.
func (b *Batch) planSessions() ([]store.Session, error) {
	all, err := b.DB.Sessions(0)
	if err != nil {
		return nil, err
	}
	var out []store.Session
	for _, s := range all {
		if s.Kind == "batch" && s.Meta["plan"] == b.Plan.Name && s.Meta["tag"] == b.Tag && s.Meta["shard"] == b.Shard.String() {
			out = append(out, s)
		}
	}
	return out, nil
}

func unfinished(s *store.Session) bool {
	st := s.Meta["state"]
	return st == StateRunning || st == StateInterrupted || st == ""
}

// Begin continues the newest batch of the plan that did not complete
// (resume; with none, it begins one) or begins a new batch, which skips the
// cells an earlier batch finished unless rerun. It leaves Session 0 when
// resume finds the last batch complete.
func (b *Batch) Begin(args []string, resume, rerun bool) error {
	prev, err := b.planSessions()
	if err != nil {
		return err
	}
	var last *store.Session
	if len(prev) > 0 {
		last = &prev[0]
	}
	switch {
	case resume && last == nil:
		// A job that is retried (Slurm --requeue, a Kubernetes pod restart) always
		// passes --resume: the first attempt begins the batch.
		b.logf("no batch of plan %q%s to resume: beginning one", b.Plan.Name, b.where())
	case resume && last.Meta["state"] == StateComplete:
		b.logf("batch session %d of plan %q ended (%s): nothing to resume; --rerun starts a new batch", last.ID, b.Plan.Name, last.Meta["state"])
		return nil
	case resume:
		return b.resume(last)
	case last != nil && unfinished(last) && !rerun:
		return fmt.Errorf("%w: batch session %d of plan %q%s (%s): --resume continues it, --rerun starts a new batch",
			ErrUnfinished, last.ID, b.Plan.Name, b.where(), last.Meta["state"])
	}
	if !rerun {
		b.skipFinished(prev)
	}
	s, err := b.DB.BeginSession("batch", b.Plan.Name, args)
	if err != nil {
		return err
	}
	b.Session = s.ID
	return b.setMeta(map[string]string{"plan": b.Plan.Name, "tag": b.Tag, "shard": b.Shard.String(),
		"shards": fmt.Sprint(max(1, b.Shard.Count)), "state": StateRunning})
}

func (b *Batch) where() string {
	s := ""
	if b.Tag != "" {
		s += fmt.Sprintf(" (tag %q)", b.Tag)
	}
	if b.Shard.Count > 1 {
		s += fmt.Sprintf(" (shard %s)", b.Shard)
	}
	return s
}

// setMeta stores kv with the plan's identity: its hash, file, cell hashes
// and cell order.
func (b *Batch) setMeta(kv map[string]string) error {
	kv["plan_hash"] = b.Plan.Hash()
	kv["plan_file"] = b.Plan.File
	cells, _ := json.Marshal(b.Plan.CellHashes())
	kv["cells"] = string(cells)
	var order []string
	for _, c := range b.Plan.Cells {
		order = append(order, c.ID)
	}
	o, _ := json.Marshal(order)
	kv["order"] = string(o)
	for k, v := range kv {
		if err := b.DB.SetSessionMeta(b.Session, k, v); err != nil {
			return err
		}
	}
	return nil
}

// resume reopens the last session and explains how the plan changed since
// it began; Run replays its finished runs.
func (b *Batch) resume(last *store.Session) error {
	b.Session = last.ID
	if err := b.DB.ReopenSession(last.ID); err != nil {
		return err
	}
	if last.Meta["plan_hash"] != b.Plan.Hash() {
		var old map[string]string
		json.Unmarshal([]byte(last.Meta["cells"]), &old)
		notes := b.Plan.Diff(old).Notes()
		b.logf("the plan changed since session %d began:", last.ID)
		for _, n := range notes {
			b.logf("  %s", n)
		}
		if prev := last.Meta["plan_changes"]; prev != "" {
			notes = append(strings.Split(prev, "\n"), notes...)
		}
		if err := b.DB.SetSessionMeta(last.ID, "plan_changes", strings.Join(notes, "\n")); err != nil {
			return err
		}
	}
	b.logf("resuming batch session %d of plan %q", last.ID, b.Plan.Name)
	return b.setMeta(map[string]string{"state": StateRunning, "shards": fmt.Sprint(max(1, b.Shard.Count))})
}

// skipFinished marks the cells an earlier batch of the plan finished with
// the same kernel, reproducer, variant and stop rule.
func (b *Batch) skipFinished(prev []store.Session) {
	now := b.Plan.CellHashes()
	for _, c := range b.Cells {
		if c.Skip != "" {
			continue
		}
		for _, s := range prev {
			var hashes, states map[string]string
			json.Unmarshal([]byte(s.Meta["cells"]), &hashes)
			json.Unmarshal([]byte(s.Meta["cell_states"]), &states)
			st := states[c.ID]
			if hashes[c.ID] == now[c.ID] && (st == "done" || strings.HasPrefix(st, "done:") || strings.HasPrefix(st, "decided:")) {
				c.Skip = fmt.Sprintf("finished in batch session %d", s.ID)
				break
			}
		}
	}
}

// replay counts the session's finished runs: each takes the place of a run
// its cell would make, unless the cell now runs another configuration.
func (b *Batch) replay(pol *Policy) (counted, ignored int, err error) {
	recs, err := b.DB.Runs(store.Query{SessionID: b.Session, Status: "done"})
	if err != nil {
		return 0, 0, err
	}
	byName := map[string]int{}
	for i, a := range b.Arms {
		byName[a.Name] = i
	}
	for _, r := range recs {
		i, ok := byName[r.Config.Variant]
		if !ok || b.Arms[i].Config.Hash() != r.ConfigHash || b.Cells[b.Arms[i].Cell].Skip != "" {
			ignored++
			continue
		}
		pol.Replay(i, r)
		counted++
	}
	return counted, ignored, nil
}

// RunOptions configure Run.
type RunOptions struct {
	Jobs      int
	Deadline  time.Time // zero = none
	LogBudget int64     // bytes for the batch's console logs (0 = the store's cap per log)
	Progress  func(total int, names []string) batch.Progress
}

// Run schedules the cells until they finish, the deadline or a budget cuts
// them, or ctx is cancelled, and returns the batch's state. At the
// deadline the runs still going are stopped and recorded as interrupted.
func (b *Batch) Run(ctx context.Context, o RunOptions) (string, error) {
	pol, err := NewPolicy(b.Cells, b.Arms)
	if err != nil {
		return "", err
	}
	pol.Budget, pol.Deadline = b.Plan.Budget, o.Deadline
	b.Policy = pol
	counted, ignored, err := b.replay(pol)
	if err != nil {
		return "", err
	}
	if counted+ignored > 0 {
		b.logf("%d finished runs of session %d count; %d do not (their cell changed or is skipped)", counted, b.Session, ignored)
	}
	for _, c := range b.Cells {
		if c.Skip != "" && c.Skip != NotThisShard {
			b.logf("cell %s: skipped: %s (--rerun runs it again)", c.ID, c.Skip)
		}
	}
	runCtx := ctx
	if !o.Deadline.IsZero() {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, o.Deadline)
		defer cancel()
	}
	total, booters, names := 0, make([]batch.Booter, len(b.Arms)), make([]string, len(b.Arms))
	rec := &LogRecorder{Recorder: store.Recorder{DB: b.DB, Session: b.Session}}
	for i, a := range b.Arms {
		booters[i], names[i] = a.Booter, a.Name
		rec.Configs = append(rec.Configs, a.Config)
	}
	for _, c := range b.Cells {
		if c.Skip == "" {
			total += max(0, c.Quota-c.Done)
		}
	}
	rec.SetBudget(o.LogBudget, total)
	var prog batch.Progress
	if o.Progress != nil {
		prog = o.Progress(total, names)
	}
	tally, err := batch.Run(runCtx, batch.Options{Jobs: o.Jobs, Variants: booters, Policy: pol, Recorder: rec, Progress: prog})
	if prog != nil {
		prog.Close()
	}
	switch {
	case ctx.Err() != nil:
		return StateInterrupted, nil
	case tally != nil && tally.HostFailed:
		return StateHostFailed, nil
	case err != nil:
		return "", err
	}
	finished := true
	for _, c := range b.Cells {
		finished = finished && c.Finished()
	}
	switch {
	case finished:
		return StateComplete, nil
	case runCtx.Err() != nil || pol.CutBy() == "deadline":
		return StateDeadline, nil
	}
	return StateBudget, nil // the plan's budget or the cells' own
}

// Finish records the batch's state and each cell's; a batch that was not
// interrupted ends its session (an interrupted one stays open for --resume).
func (b *Batch) Finish(state string) error {
	states := map[string]string{}
	for _, c := range b.Cells {
		states[c.ID] = c.State()
	}
	js, _ := json.Marshal(states)
	if err := b.setMeta(map[string]string{"state": state, "cell_states": string(js)}); err != nil {
		return err
	}
	if state == StateInterrupted {
		return nil
	}
	return b.DB.EndSession(b.Session)
}
