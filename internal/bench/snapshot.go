package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/compare"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
)

// A SnapshotReport compares starting runs from a saved VM state
// (run.Options.Snapshot) with booting, side by side: per-run wall time and
// overhead against the seed story's raw loop, runs per hour with two VMs,
// and, given the seed kernels, the wall time of their comparison.
type SnapshotReport struct {
	Opts Options
	Load [2]string // /proc/loadavg before and after

	SaveS                          float64 // boot to ready + saving the state, once
	SeedWall, BootWall, SnapWall   Sample  // host seconds per run, interleaved
	BootOverhead, SnapOverhead     Sample  // wall minus the reproducer's run time
	J2Runs                         int
	BootJ2Wall, SnapJ2Wall         float64 // seconds for J2Runs runs with -j 2
	CompareBoot, CompareSnap       *CompareTiming
	SeedKernelClean, SeedKernelPro string
}

// A CompareTiming is one comparison of the seed kernels.
type CompareTiming struct {
	Wall     float64 // host seconds from start to decision
	Decision string
	Runs     int
}

// MeasureSnapshot runs the snapshot benchmark: n interleaved triples
// (seed loop, booted run, restored run) of go20427 for o.Duration, then
// j2 runs with -j 2 each way (booted, restored, alternating halves), then,
// when clean and probed are set, the seed kernels' comparison (vdsostack
// -d 10s, -j 2) booted and restored.
func MeasureSnapshot(ctx context.Context, o Options, j2 int, clean, probed string) (*SnapshotReport, error) {
	o = o.withDefaults()
	r := &SnapshotReport{Opts: o, J2Runs: j2, SeedKernelClean: clean, SeedKernelPro: probed,
		SeedWall: Sample{Name: "seed method wall"}, BootWall: Sample{Name: "booted run wall"}, SnapWall: Sample{Name: "restored run wall"},
		BootOverhead: Sample{Name: "booted run overhead"}, SnapOverhead: Sample{Name: "restored run overhead"}}
	r.Load[0] = loadavg()
	seedImg, err := seedImage(ctx, o)
	if err != nil {
		return nil, err
	}
	ro := run.Options{Kernel: o.Kernel, Repro: repro.Program{Builtin: "go20427"}, Duration: o.Duration, SMP: o.SMP,
		Accel: "tcg", CacheDir: o.CacheDir, LogDir: o.LogDir, Logf: o.Logf}
	boot, err := run.Prepare(ctx, ro)
	if err != nil {
		return nil, err
	}
	ro.Snapshot = true
	snap, err := run.Prepare(ctx, ro)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if _, err := timedRun(ctx, snap); err != nil { // saves the state when it is not cached
		return nil, err
	}
	r.SaveS = time.Since(t0).Seconds()
	for i := 0; i < o.Runs; i++ {
		w, err := seedRun(ctx, o, seedImg)
		if err != nil {
			return nil, err
		}
		r.SeedWall.Values = append(r.SeedWall.Values, w)
		for _, side := range []struct {
			p          *run.Plan
			wall, over *Sample
		}{{boot, &r.BootWall, &r.BootOverhead}, {snap, &r.SnapWall, &r.SnapOverhead}} {
			res, err := timedRun(ctx, side.p)
			if err != nil {
				return nil, err
			}
			side.wall.Values = append(side.wall.Values, res.wall)
			side.over.Values = append(side.over.Values, res.wall-res.ran)
		}
		o.logf("triple %d/%d: seed %.2fs, booted %.2fs, restored %.2fs", i+1, o.Runs, w,
			r.BootWall.Values[i], r.SnapWall.Values[i])
	}
	if j2 > 0 {
		if err := r.throughput(ctx, o, boot, snap); err != nil {
			return nil, err
		}
	}
	if clean != "" && probed != "" {
		for _, snapshot := range []bool{false, true} {
			ct, err := seedCompare(ctx, o, clean, probed, snapshot)
			if err != nil {
				return nil, err
			}
			if snapshot {
				r.CompareSnap = ct
			} else {
				r.CompareBoot = ct
			}
		}
	}
	r.Load[1] = loadavg()
	return r, nil
}

type timed struct{ wall, ran float64 }

// timedRun boots once; wall is host time around the whole run, ran the
// reproducer's own run time (guest clock).
func timedRun(ctx context.Context, p *run.Plan) (timed, error) {
	t0 := time.Now()
	res, err := p.Boot(ctx)
	if err != nil {
		return timed{}, err
	}
	w := time.Since(t0).Seconds()
	if len(res.Iterations) == 0 {
		return timed{}, fmt.Errorf("benchmark run ended %s (%s) without running the reproducer; log %s", res.Verdict, res.Reason, res.Log)
	}
	os.Remove(res.Log)
	return timed{w, res.Iterations[0].Ran}, nil
}

// throughput runs J2Runs runs with -j 2 each way, in two halves
// (booted, restored, booted, restored) so that load changes hit both.
func (r *SnapshotReport) throughput(ctx context.Context, o Options, boot, snap *run.Plan) error {
	half := max(1, r.J2Runs/2)
	for i := 0; i < 2; i++ {
		for _, side := range []struct {
			p    *run.Plan
			wall *float64
		}{{boot, &r.BootJ2Wall}, {snap, &r.SnapJ2Wall}} {
			t0 := time.Now()
			if _, err := batch.Run(ctx, batch.Options{Jobs: 2, Variants: []batch.Booter{side.p}, Policy: &batch.Repeat{Runs: half}}); err != nil {
				return err
			}
			*side.wall += time.Since(t0).Seconds()
		}
	}
	r.J2Runs = 2 * half
	o.logf("-j 2: %d runs booted in %.1fs, restored in %.1fs", r.J2Runs, r.BootJ2Wall, r.SnapJ2Wall)
	return nil
}

// seedCompare is `crashrig compare -k clean=… -k probed=… -r vdsostack -d 10s -j 2`,
// timed from start (state saving included) to the decision.
func seedCompare(ctx context.Context, o Options, clean, probed string, snapshot bool) (*CompareTiming, error) {
	db, err := store.Open(filepath.Join(o.LogDir, fmt.Sprintf("bench-compare-%d.db", time.Now().UnixNano())))
	if err != nil {
		return nil, err
	}
	defer func() { db.Close(); os.Remove(db.Path()) }()
	t0 := time.Now()
	var vs []compare.Variant
	for _, k := range []struct{ name, path string }{{"clean", clean}, {"probed", probed}} {
		p, err := run.Prepare(ctx, run.Options{Kernel: k.path, Repro: repro.Program{Builtin: "vdsostack"}, Duration: 10 * time.Second,
			Accel: "tcg", CacheDir: o.CacheDir, LogDir: o.LogDir, Snapshot: snapshot, Logf: o.Logf})
		if err != nil {
			return nil, err
		}
		vs = append(vs, compare.Variant{Name: k.name, Plan: p, Config: p.Config(k.name, "")})
	}
	out, err := compare.Run(ctx, compare.Options{Variants: vs, Test: sequential.Config{MaxRuns: 60}, Jobs: 2, DB: db})
	if err != nil {
		return nil, err
	}
	d := out.Decisions[0]
	ct := &CompareTiming{Wall: time.Since(t0).Seconds(), Decision: d.String(), Runs: d.Runs[0] + d.Runs[1]}
	o.logf("seed kernels (snapshot %v): %s after %d runs in %.1fs", snapshot, ct.Decision, ct.Runs, ct.Wall)
	return ct, nil
}

// label names a kernel by its path's last two elements (seed kernels are all bzImage).
func label(path string) string {
	return filepath.Join(filepath.Base(filepath.Dir(path)), filepath.Base(path))
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Write prints the figures the snapshot goals name.
func (r *SnapshotReport) Write(w io.Writer) {
	fmt.Fprintf(w, "kernel %s, go20427 -d %v, -smp %d, TCG, %d interleaved triples (medians); load %s at start, %s at end\n",
		r.Opts.Kernel, r.Opts.Duration, r.Opts.SMP, r.Opts.Runs, r.Load[0], r.Load[1])
	fmt.Fprintf(w, "state saved once (boot to ready + save, or a cache hit): %.2fs\n\n", r.SaveS)
	row := func(s Sample, note string) {
		fmt.Fprintf(w, "%-28s %8.3fs   min %.3f max %.3f   %s\n", s.Name, s.Median(), minOf(s.Values), maxOf(s.Values), note)
	}
	seed := r.SeedWall.Median()
	row(r.SeedWall, "")
	row(r.BootWall, fmt.Sprintf("%.2f × seed", r.BootWall.Median()/seed))
	row(r.SnapWall, fmt.Sprintf("%.2f × seed (goal <= 0.5)", r.SnapWall.Median()/seed))
	row(r.BootOverhead, "")
	row(r.SnapOverhead, "goal <= 0.400s")
	if r.J2Runs > 0 {
		bh, sh := float64(r.J2Runs)*3600/r.BootJ2Wall, float64(r.J2Runs)*3600/r.SnapJ2Wall
		fmt.Fprintf(w, "\n-j 2, %d runs each way:\n", r.J2Runs)
		ideal := func(s Sample) float64 { return 2 * 3600 / s.Median() } // two VMs, each at the single-run wall
		fmt.Fprintf(w, "booted                      %8.0f runs/hour   %.0f%% of 2 × single\n", bh, 100*bh/ideal(r.BootWall))
		fmt.Fprintf(w, "restored                    %8.0f runs/hour   %.0f%% of 2 × single; %.2f × booted (goal >= 2.5)\n",
			sh, 100*sh/ideal(r.SnapWall), sh/bh)
	}
	if r.CompareBoot != nil && r.CompareSnap != nil {
		fmt.Fprintf(w, "\nseed kernels, vdsostack -d 10s -j 2 (%s vs %s):\n", label(r.SeedKernelClean), label(r.SeedKernelPro))
		fmt.Fprintf(w, "booted                      %8.1fs   %d runs   %s\n", r.CompareBoot.Wall, r.CompareBoot.Runs, r.CompareBoot.Decision)
		fmt.Fprintf(w, "restored (saving included)  %8.1fs   %d runs   %s   %.2f × booted\n", r.CompareSnap.Wall, r.CompareSnap.Runs,
			r.CompareSnap.Decision, r.CompareSnap.Wall/r.CompareBoot.Wall)
	}
}
