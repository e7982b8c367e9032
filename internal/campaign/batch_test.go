package campaign

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/plan"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// countingBoot passes after wait, or is interrupted; it counts its boots.
type countingBoot struct {
	wait  time.Duration
	boots *atomic.Int32
}

func (b countingBoot) Boot(ctx context.Context) (*record.Run, error) {
	b.boots.Add(1)
	select {
	case <-time.After(b.wait):
		return &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Pass,
			Iterations: []verdict.Iteration{{Verdict: verdict.Pass, Ran: 1}}}, Wall: 1}, nil
	case <-ctx.Done():
		return &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Interrupted}}, nil
	}
}

func testPlan(t *testing.T, dir, runsA, argsB string) *plan.Plan {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "bzImage"), []byte("x"), 0o644)
	text := `name: t
duration: 1s
kernels: [{name: k, path: bzImage}]
reproducers:
  - {name: a, builtin: selftest}
  - {name: b, builtin: selftest, args: [` + argsB + `]}
cells:
  - {reproducers: [a], runs: ` + runsA + `}
  - {reproducers: [b], runs: 4}
`
	p, err := plan.Parse(filepath.Join(dir, "plan.yaml"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newBatch builds the batch with fake arms (no image, no VM).
func newBatch(db *store.DB, p *plan.Plan, boots *atomic.Int32, wait time.Duration) *Batch {
	b := &Batch{DB: db, Plan: p}
	for i := range p.Cells {
		c := &p.Cells[i]
		b.Cells = append(b.Cells, &Cell{Cell: c, Quota: c.Runs, Arms: []int{i}})
		cfg := record.Config{KernelPath: c.Kernel.Path, Reproducer: "selftest", ReproArgs: c.Reproducer.Args, Duration: 1, Iterations: 1, Variant: c.ID}
		b.Arms = append(b.Arms, Arm{Cell: i, Name: c.ID, Config: cfg, Booter: countingBoot{wait, boots}, RunLength: time.Second})
	}
	return b
}

// TestBatchResume: an interrupted batch refuses a plain re-run, resumes
// with its finished runs counted once, explains a changed plan (a cell
// with other arguments starts over; a raised run count keeps its runs),
// and a finished batch's cells are skipped by the next one.
func TestBatchResume(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var boots atomic.Int32
	p := testPlan(t, dir, "4", "-mode, pass")
	b := newBatch(db, p, &boots, 30*time.Millisecond)
	if err := b.Begin(nil, false, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	state, err := b.Run(ctx, RunOptions{Jobs: 2})
	cancel()
	if err != nil || state != StateInterrupted {
		t.Fatalf("cut run: %q, %v", state, err)
	}
	b.Finish(state)
	done1, _ := db.Runs(store.Query{SessionID: b.Session, Status: "done"})
	if len(done1) == 0 || len(done1) >= 8 {
		t.Fatalf("%d runs finished before the cut: want some, not all", len(done1))
	}

	if err := newBatch(db, p, &boots, 0).Begin(nil, false, false); !errors.Is(err, ErrUnfinished) {
		t.Fatalf("a plain re-run after an interrupted batch: %v, want ErrUnfinished", err)
	}

	var logs []string
	p2 := testPlan(t, dir, "6", "-mode, panic")
	b2 := newBatch(db, p2, &boots, time.Millisecond)
	b2.Logf = func(f string, a ...any) { logs = append(logs, f) }
	if err := b2.Begin(nil, true, false); err != nil || b2.Session != b.Session {
		t.Fatalf("resume: session %d, %v; want session %d", b2.Session, err, b.Session)
	}
	state, err = b2.Run(context.Background(), RunOptions{Jobs: 2})
	if err != nil || state != StateComplete {
		t.Fatalf("resumed run: %q, %v", state, err)
	}
	b2.Finish(state)
	kept := 0
	for _, r := range done1 {
		if r.Config.Variant == "k/a" {
			kept++
		}
	}
	for _, c := range b2.Cells {
		want := map[string]int{"k/a": kept, "k/b": 0}[c.ID]
		if c.Replayed != want || c.Done != c.Quota {
			t.Errorf("cell %s: replayed %d, done %d of %d; want %d replayed (a changed cell starts over)", c.ID, c.Replayed, c.Done, c.Quota, want)
		}
	}
	all, _ := db.Runs(store.Query{SessionID: b.Session, Status: "done"})
	if n := len(all); n != len(done1)+6-kept+4 {
		t.Errorf("%d finished runs in the session, want %d (the first %d, then the rest)", n, len(done1)+6-kept+4, len(done1))
	}
	s, _ := db.Session(b.Session)
	if !strings.Contains(s.Meta["plan_changes"], "k/b") || s.Meta["state"] != StateComplete {
		t.Errorf("session meta %v: want the plan change and state complete", s.Meta)
	}

	b3 := newBatch(db, p2, &boots, time.Millisecond)
	if err := b3.Begin(nil, false, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range b3.Cells {
		if !strings.HasPrefix(c.Skip, "finished in batch session") {
			t.Errorf("cell %s of a finished plan: skip %q", c.ID, c.Skip)
		}
	}
	before := boots.Load()
	if state, err := b3.Run(context.Background(), RunOptions{Jobs: 2}); err != nil || state != StateComplete || boots.Load() != before {
		t.Errorf("a batch of skipped cells: %q, %v, %d boots", state, err, boots.Load()-before)
	}
	b3.Finish(StateComplete)
	b4 := newBatch(db, p2, &boots, time.Millisecond)
	if err := b4.Begin(nil, true, false); err != nil || b4.Session != 0 {
		t.Errorf("--resume of a complete batch: session %d, %v; want nothing to do", b4.Session, err)
	}
}
