package campaign

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/plan"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// instantBoot returns a finished pass at once, with a console log of a
// typical boot, so that a batch of them measures only crashrig's own cost.
type instantBoot struct{ log string }

func (b instantBoot) Boot(context.Context) (*record.Run, error) {
	return &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Pass,
		Iterations: []verdict.Iteration{{Verdict: verdict.Pass, Ran: 10}}}, Wall: 11, Log: b.log, LogBytes: 48 << 10,
		Start: time.Now()}, nil
}

// BenchmarkBatchOverhead is the scheduler's and the store's cost per run in
// a 2-VM batch of 8 cells: the policy choosing the run, StartRun, FinishRun
// with a 48 KiB console log, its iterations and result, in a real SQLite
// file. Booting is free here; divide by a run's VM-time for the share.
func BenchmarkBatchOverhead(b *testing.B) {
	dir := b.TempDir()
	log := filepath.Join(dir, "console.log")
	os.WriteFile(log, bytes.Repeat([]byte("[    1.234567] a typical line of a kernel boot log\n"), (48<<10)/51), 0o644)
	db, err := store.Open(filepath.Join(dir, "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sess, _ := db.BeginSession("batch", "bench", nil)
	const ncells = 8
	var cells []*Cell
	var arms []Arm
	rec := &store.Recorder{DB: db, Session: sess.ID}
	booters := make([]batch.Booter, ncells)
	for i := 0; i < ncells; i++ {
		id := fmt.Sprintf("k/r%d", i)
		cells = append(cells, &Cell{Cell: &plan.Cell{ID: id, Rule: plan.RuleRuns, Runs: b.N}, Quota: (b.N + ncells - 1) / ncells, Arms: []int{i}})
		c := record.Config{KernelSHA256: "ab", Reproducer: fmt.Sprintf("r%d", i), SMP: 2, Memory: 512, Duration: 10, Iterations: 1, Variant: id}
		arms = append(arms, Arm{Cell: i, Name: id, Config: c, RunLength: 11 * time.Second})
		rec.Configs = append(rec.Configs, c)
		booters[i] = instantBoot{log: log}
	}
	pol, err := NewPolicy(cells, arms)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	t0 := time.Now()
	sum, err := batch.Run(context.Background(), batch.Options{Jobs: 2, Variants: booters, Policy: pol, Recorder: rec})
	if err != nil {
		b.Fatal(err)
	}
	runs := 0
	for _, r := range sum.Results {
		runs += len(r)
	}
	per := time.Since(t0) / time.Duration(max(1, runs))
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/run")
	// Against a 10 s run (the shortest useful one under KVM; TCG runs are longer).
	b.ReportMetric(100*per.Seconds()/10, "%-of-10s-run")
}
