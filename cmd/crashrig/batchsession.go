package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crashrig/crashrig/internal/campaign"
	"github.com/crashrig/crashrig/internal/store"
)

// Batch session states (meta "state").
const (
	stateRunning     = "running"
	stateComplete    = "complete"
	stateDeadline    = "cut by the deadline"
	stateBudget      = "cut by the budget"
	stateInterrupted = "interrupted"
	stateHostFailed  = "stopped: the host failed every boot"
)

func unfinished(s *store.Session) bool {
	st := s.Meta["state"]
	return st == stateRunning || st == stateInterrupted || st == ""
}

// planSessions are the batch sessions of this plan, tag and shard, newest first.
func (b *batchRun) planSessions() ([]store.Session, error) {
	all, err := b.db.Sessions(0)
	if err != nil {
		return nil, &exitError{code: exitInfra, err: err}
	}
	var out []store.Session
	for _, s := range all {
		if s.Kind == "batch" && s.Meta["plan"] == b.plan.Name && s.Meta["tag"] == b.f.tag && s.Meta["shard"] == b.shard.String() {
			out = append(out, s)
		}
	}
	return out, nil
}

// session continues the last batch (--resume) or begins a new one.
func (b *batchRun) session(argv []string) error {
	prev, err := b.planSessions()
	if err != nil {
		return err
	}
	var last *store.Session
	if len(prev) > 0 {
		last = &prev[0]
	}
	switch {
	case b.f.resume && last == nil:
		// A job that is retried (Slurm --requeue, a Kubernetes pod restart) always
		// passes --resume: the first attempt begins the batch.
		b.logf("no batch of plan %q%s to resume: beginning one", b.plan.Name, b.where())
	case b.f.resume && last.Meta["state"] == stateComplete:
		b.logf("batch session %d of plan %q ended (%s): nothing to resume; --rerun starts a new batch", last.ID, b.plan.Name, last.Meta["state"])
		return nil
	case b.f.resume:
		return b.resume(last)
	case last != nil && unfinished(last) && !b.f.rerun:
		return usageErr("batch session %d of plan %q%s stopped before it finished (%s): --resume continues it, --rerun starts a new batch",
			last.ID, b.plan.Name, b.where(), last.Meta["state"])
	}
	if !b.f.rerun {
		b.skipDecided(prev)
	}
	s, err := b.db.BeginSession("batch", b.plan.Name, argv)
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	b.sess = s.ID
	return b.setMeta(map[string]string{"plan": b.plan.Name, "tag": b.f.tag, "shard": b.shard.String(),
		"shards": fmt.Sprint(max(1, b.shard.Count)), "state": stateRunning})
}

func (b *batchRun) where() string {
	s := ""
	if b.f.tag != "" {
		s += fmt.Sprintf(" (tag %q)", b.f.tag)
	}
	if b.shard.Count > 1 {
		s += fmt.Sprintf(" (shard %s)", b.shard)
	}
	return s
}

func (b *batchRun) setMeta(kv map[string]string) error {
	kv["plan_hash"] = b.plan.Hash()
	kv["plan_file"] = b.plan.File
	cells, _ := json.Marshal(b.plan.CellHashes())
	kv["cells"] = string(cells)
	var order []string
	for _, c := range b.plan.Cells {
		order = append(order, c.ID)
	}
	o, _ := json.Marshal(order)
	kv["order"] = string(o)
	for k, v := range kv {
		if err := b.db.SetSessionMeta(b.sess, k, v); err != nil {
			return &exitError{code: exitInfra, err: err}
		}
	}
	return nil
}

// resume reopens the last session, explains how the plan changed since it
// began, and replays its finished runs into the cells that still count them.
func (b *batchRun) resume(last *store.Session) error {
	b.sess = last.ID
	if err := b.db.ReopenSession(last.ID); err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	changed := map[string]bool{}
	if last.Meta["plan_hash"] != b.plan.Hash() {
		var old map[string]string
		json.Unmarshal([]byte(last.Meta["cells"]), &old)
		ch := b.plan.Diff(old)
		notes := ch.Notes()
		b.logf("the plan changed since session %d began:", last.ID)
		for _, n := range notes {
			b.logf("  %s", n)
		}
		for _, id := range ch.Changed {
			changed[id] = true
		}
		prevNotes := last.Meta["plan_changes"]
		all := append(strings.Split(prevNotes, "\n"), notes...)
		if prevNotes == "" {
			all = notes
		}
		if err := b.db.SetSessionMeta(last.ID, "plan_changes", strings.Join(all, "\n")); err != nil {
			return &exitError{code: exitInfra, err: err}
		}
	}
	b.logf("resuming batch session %d of plan %q", last.ID, b.plan.Name)
	return b.setMeta(map[string]string{"state": stateRunning, "shards": fmt.Sprint(max(1, b.shard.Count))})
}

// skipDecided marks the cells an earlier batch of the plan finished with
// the same kernel, reproducer, variant and stop rule.
func (b *batchRun) skipDecided(prev []store.Session) {
	now := b.plan.CellHashes()
	for _, c := range b.cells {
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
func (b *batchRun) replay(pol *campaign.Policy) (counted, ignored int, err error) {
	recs, err := b.db.Runs(store.Query{SessionID: b.sess, Status: "done"})
	if err != nil {
		return 0, 0, &exitError{code: exitInfra, err: err}
	}
	byName := map[string]int{}
	for i, a := range b.arms {
		byName[a.Name] = i
	}
	for _, r := range recs {
		i, ok := byName[r.Config.Variant]
		if !ok || b.arms[i].Config.Hash() != r.ConfigHash || b.cells[b.arms[i].Cell].Skip != "" {
			ignored++
			continue
		}
		pol.Replay(i, r)
		counted++
	}
	return counted, ignored, nil
}
