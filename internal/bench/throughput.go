package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/store"
)

// A Throughput report compares runs per hour with -j 2 against the ideal
// of two single runs' worth, and measures what recording a run costs.
type Throughput struct {
	Duration     time.Duration
	Runs         int
	Single       Sample  // wall seconds of runs one at a time
	ParallelWall float64 // seconds for Runs runs with -j 2
	StoreMS      Sample  // milliseconds to record one finished run
}

// PerHour is the measured rate with -j 2.
func (t Throughput) PerHour() float64 { return float64(t.Runs) * 3600 / t.ParallelWall }

// Ideal is 2 × 3600 / single-run wall time.
func (t Throughput) Ideal() float64 { return 2 * 3600 / t.Single.Median() }

// MeasureThroughput boots go20427 for d: n runs one at a time, then n runs
// two at a time, all recorded in a scratch database.
func MeasureThroughput(ctx context.Context, o Options, n int) (*Throughput, error) {
	o = o.withDefaults()
	plan, err := run.Prepare(ctx, run.Options{Kernel: o.Kernel, Repro: repro.Program{Builtin: "go20427"}, Duration: o.Duration,
		SMP: 1, Accel: "tcg", CacheDir: o.CacheDir, LogDir: o.LogDir})
	if err != nil {
		return nil, err
	}
	db, err := store.Open(filepath.Join(o.LogDir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano())))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	sess, err := db.BeginSession("batch", "bench", nil)
	if err != nil {
		return nil, err
	}
	rec := &timedRecorder{Recorder: store.Recorder{DB: db, Session: sess.ID, Configs: []record.Config{plan.Config("", "")}}}
	t := &Throughput{Duration: o.Duration, Runs: n, Single: Sample{Name: "single run wall"}, StoreMS: Sample{Name: "store per run"}}
	sum, err := batch.Run(ctx, batch.Options{Jobs: 1, Variants: []batch.Booter{plan}, Policy: &batch.Repeat{Runs: n}, Recorder: rec})
	if err != nil {
		return nil, err
	}
	for _, r := range sum.Results[0] {
		t.Single.Values = append(t.Single.Values, r.Wall)
	}
	start := time.Now()
	if _, err := batch.Run(ctx, batch.Options{Jobs: 2, Variants: []batch.Booter{plan}, Policy: &batch.Repeat{Runs: n}, Recorder: rec}); err != nil {
		return nil, err
	}
	t.ParallelWall = time.Since(start).Seconds()
	t.StoreMS.Values = rec.ms
	o.logf("single %.2fs median; %d runs with -j 2 in %.1fs", t.Single.Median(), n, t.ParallelWall)
	return t, nil
}

// timedRecorder measures what recording costs.
type timedRecorder struct {
	store.Recorder
	ms []float64
}

func (r *timedRecorder) Finished(id int64, v int, res *record.Run) error {
	t0 := time.Now()
	err := r.Recorder.Finished(id, v, res)
	r.ms = append(r.ms, float64(time.Since(t0).Microseconds())/1000)
	return err
}

// Write prints the throughput figures.
func (t *Throughput) Write(w io.Writer) {
	fmt.Fprintf(w, "go20427 -d %v, -smp 1, TCG, %d runs each way\n", t.Duration, t.Runs)
	fmt.Fprintf(w, "single run wall (median)      %8.2fs\n", t.Single.Median())
	fmt.Fprintf(w, "ideal with -j 2               %8.1f runs/hour (2 × 3600 / single)\n", t.Ideal())
	fmt.Fprintf(w, "measured with -j 2            %8.1f runs/hour (%.1f%% of ideal; goal >= 95%%)\n", t.PerHour(), 100*t.PerHour()/t.Ideal())
	fmt.Fprintf(w, "store overhead per run        %8.1fms median (max %.1f)\n", t.StoreMS.Median(), maxOf(t.StoreMS.Values))
}
