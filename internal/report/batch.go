package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/crashrig/crashrig/internal/stats"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// batchGroup is the sessions one batch of a plan wrote: the session itself
// or, for a sharded batch, the newest session of each shard with the same
// plan, tag and plan hash (after crashrig merge, all in one database).
func batchGroup(db *store.DB, s *store.Session) ([]store.Session, error) {
	if s.Meta["shards"] == "" || s.Meta["shards"] == "1" {
		return []store.Session{*s}, nil
	}
	all, err := db.Sessions(0)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []store.Session
	for _, x := range all { // newest first
		if x.Kind != "batch" || x.Meta["plan"] != s.Meta["plan"] || x.Meta["tag"] != s.Meta["tag"] ||
			x.Meta["plan_hash"] != s.Meta["plan_hash"] || x.Meta["shards"] != s.Meta["shards"] || seen[x.Meta["shard"]] {
			continue
		}
		seen[x.Meta["shard"]] = true
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b store.Session) int { return int(a.ID - b.ID) })
	return out, nil
}

// previousBatch is the newest batch of the same plan and shard layout that
// began before the group.
func previousBatch(db *store.DB, group []store.Session) ([]store.Session, error) {
	all, err := db.Sessions(0)
	if err != nil {
		return nil, err
	}
	first, s := group[0].ID, group[0]
	in := map[int64]bool{}
	for _, g := range group {
		in[g.ID] = true
	}
	for _, x := range all {
		if x.Kind == "batch" && x.ID < first && !in[x.ID] && x.Meta["plan"] == s.Meta["plan"] && x.Meta["shards"] == s.Meta["shards"] {
			return batchGroup(db, &x)
		}
	}
	return nil, nil
}

// cellRuns is what a batch recorded for one cell (its first arm).
type cellRuns struct {
	runs, crashes, other int
	titles               map[string]bool
}

func collectCells(db *store.DB, group []store.Session) (map[string]*cellRuns, []store.RunRecord, error) {
	out := map[string]*cellRuns{}
	var all []store.RunRecord
	for _, s := range group {
		recs, err := db.Runs(store.Query{SessionID: s.ID})
		if err != nil {
			return nil, nil, err
		}
		all = append(all, recs...)
	}
	for _, r := range all {
		if r.Status != "done" || strings.HasSuffix(r.Config.Variant, BaselineSuffix) {
			continue
		}
		c := out[r.Config.Variant]
		if c == nil {
			c = &cellRuns{titles: map[string]bool{}}
			out[r.Config.Variant] = c
		}
		switch r.Verdict {
		case verdict.Crash, verdict.Hang:
			c.runs++
			c.crashes++
			c.titles[r.Title] = true
		case verdict.Pass, verdict.Stopped:
			c.runs++
		default:
			c.other++
		}
	}
	return out, all, nil
}

// BaselineSuffix marks the runs of a comparison cell's baseline arm: they
// are stored under the cell's ID plus this.
const BaselineSuffix = "|baseline"

// FromBatch builds the morning report of a batch session (crashrig batch):
// the report of its runs, one variant per cell arm, and the Campaign
// section. A sharded batch joins the newest session of every shard with
// the same plan, tag and plan hash (after crashrig merge, all in db).
func FromBatch(db *store.DB, s *store.Session) (*Model, error) {
	group, err := batchGroup(db, s)
	if err != nil {
		return nil, err
	}
	var order []string
	json.Unmarshal([]byte(s.Meta["order"]), &order)
	var hashes map[string]string
	json.Unmarshal([]byte(s.Meta["cells"]), &hashes)
	cells, recs, err := collectCells(db, group)
	if err != nil {
		return nil, err
	}
	m := &Model{Title: fmt.Sprintf("crashrig batch %s — session %d, %s", s.Meta["plan"], s.ID, s.Started.Format("2006-01-02 15:04")),
		Session: s.ID, Conf: 0.95}
	m.Generated = s.Ended
	if m.Generated.IsZero() {
		m.Generated = s.Started
	}
	c := &Campaign{Plan: s.Meta["plan"], PlanHash: s.Meta["plan_hash"], State: s.Meta["state"], Changes: []string{}}
	states := map[string]string{}
	for _, g := range group {
		c.Sessions = append(c.Sessions, g.ID)
		var st map[string]string
		json.Unmarshal([]byte(g.Meta["cell_states"]), &st)
		for id, x := range st {
			if cur := states[id]; cur == "" || strings.HasPrefix(cur, "skipped: another shard") || x != "done" && !strings.HasPrefix(x, "skipped: another shard") {
				states[id] = x
			}
		}
		if g.Meta["state"] != "complete" {
			c.State = g.Meta["state"]
		}
		if n := g.Meta["plan_changes"]; n != "" {
			c.PlanDiff = append(c.PlanDiff, strings.Split(n, "\n")...)
		}
	}
	prev, err := previousBatch(db, group)
	if err != nil {
		return nil, err
	}
	var prevCells map[string]*cellRuns
	if len(prev) > 0 {
		c.Previous = prev[0].ID
		if prevCells, _, err = collectCells(db, prev); err != nil {
			return nil, err
		}
	}
	for _, id := range order {
		x := cells[id]
		if x == nil {
			x = &cellRuns{titles: map[string]bool{}}
		}
		cc := CampaignCell{ID: id, Rule: ruleOf(hashes[id]), State: states[id], Runs: x.runs, Crashes: x.crashes, Other: x.other,
			NewTitles: []string{}}
		if cc.State == "" {
			cc.State = "not started"
		}
		if cc.Runs > 0 {
			cc.PCrash = stats.Wilson(x.crashes, x.runs, 0.95)
		}
		if d, ok := strings.CutPrefix(cc.State, "decided: "); ok {
			cc.Decision = d
			cc.Failed = strings.HasPrefix(d, id+" crashes more")
		}
		cc.Failed = cc.Failed || x.crashes > 0
		var p *cellRuns
		if prevCells != nil {
			p = prevCells[id]
		}
		for t := range x.titles {
			if p == nil || !p.titles[t] {
				cc.NewTitles = append(cc.NewTitles, t)
			}
		}
		sort.Strings(cc.NewTitles)
		if c.Previous != 0 && !strings.HasPrefix(cc.State, "skipped") {
			switch {
			case p == nil && x.runs > 0:
				c.Changes = append(c.Changes, fmt.Sprintf("%s: new in this batch: %d of %d runs crashed", id, x.crashes, x.runs))
			case p != nil && (p.crashes > 0) != (x.crashes > 0) || p != nil && len(cc.NewTitles) > 0:
				c.Changes = append(c.Changes, fmt.Sprintf("%s: %d of %d runs crashed, was %d of %d", id, x.crashes, x.runs, p.crashes, p.runs))
			}
		}
		c.Cells = append(c.Cells, cc)
	}
	for _, r := range recs {
		if r.Status == "done" && (r.Verdict == verdict.Crash || r.Verdict == verdict.Hang) {
			c.CrashRuns = append(c.CrashRuns, CrashRun{RunID: r.ID, Cell: r.Config.Variant, Title: r.Title})
		}
	}
	var ids []int64
	for _, g := range group {
		ids = append(ids, g.ID)
	}
	if u, err := db.Logs(ids); err == nil && u.Trimmed > 0 {
		c.Trimmed = fmt.Sprintf("%d of %d console logs were trimmed to their head and tail by the log budget: %s of %s kept (crash logs are kept whole)",
			u.Trimmed, u.Logs, sizeText(u.Kept), sizeText(u.Raw))
	}
	m.Campaign = c
	if err := addVariants(db, m, recs, order); err != nil {
		return nil, err
	}
	return m, nil
}

func ruleOf(hashRule string) string {
	_, r, _ := strings.Cut(hashRule, " ")
	return r
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return strconv.FormatInt(n>>10, 10) + " KiB"
}

// addVariants puts one variant per arm in the model, in plan order.
func addVariants(db *store.DB, m *Model, recs []store.RunRecord, order []string) error {
	rank := map[string]int{}
	for i, id := range order {
		rank[id] = 2 * i
		rank[id+BaselineSuffix] = 2*i + 1
	}
	by := map[string][]store.RunRecord{}
	var names []string
	for _, r := range recs {
		n := r.Config.Variant
		if by[n] == nil {
			names = append(names, n)
		}
		by[n] = append(by[n], r)
	}
	sort.SliceStable(names, func(i, j int) bool { return rank[names[i]] < rank[names[j]] })
	text := func(id int64) string {
		r, err := db.Result(id)
		if err != nil {
			return ""
		}
		return r.Text
	}
	for _, n := range names {
		m.Variants = append(m.Variants, FromRecords(n, Describe(by[n][0].Config), by[n], text, 0.95))
	}
	return nil
}
