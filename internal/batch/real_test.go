package batch

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/stats"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/testkernel"
	"github.com/crashrig/crashrig/internal/verdict"
)

// TestRealRepeat boots the test kernel three times, two VMs at a time, with
// ten iterations per boot of a reproducer that panics with probability 0.4
// per iteration, and checks what the statistics and the store make of it.
func TestRealRepeat(t *testing.T) {
	const p, boots, its = 0.4, 3, 10
	plan, err := run.Prepare(context.Background(), run.Options{Kernel: testkernel.Path(t), Accel: "tcg", SMP: 1,
		Repro:    repro.Program{Builtin: "selftest", Args: []string{"-mode", "panic", "-p", "0.4", "-after", "200ms"}},
		Duration: time.Second, Iterations: its, LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sess, _ := db.BeginSession("run", "", nil)
	rec := &store.Recorder{DB: db, Session: sess.ID, Configs: []record.Config{plan.Config("", "")}}
	sum, err := Run(context.Background(), Options{Jobs: 2, Variants: []Booter{plan}, Policy: &Repeat{Runs: boots}, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	res := sum.Results[0]
	if len(res) != boots {
		t.Fatalf("%d boots, want %d", len(res), boots)
	}
	// -j 2 really ran two VMs at once: some two runs overlap in time.
	overlap := false
	for i := range res {
		for j := range res {
			a, b := res[i], res[j]
			if i != j && a.Start.Before(b.Start) && b.Start.Before(a.Start.Add(time.Duration(a.Wall*float64(time.Second)))) {
				overlap = true
			}
		}
	}
	if !overlap {
		t.Error("no two runs overlapped with -j 2")
	}
	recs, err := db.Runs(store.Query{SessionID: sess.ID})
	if err != nil {
		t.Fatal(err)
	}
	var obs []stats.Observation
	for _, r := range recs {
		if len(r.Iterations) != its {
			t.Errorf("run %d recorded %d iterations, want %d", r.ID, len(r.Iterations), its)
		}
		for _, it := range r.Iterations {
			switch it.Verdict {
			case verdict.Crash:
				obs = append(obs, stats.Observation{Crashed: true, Time: it.TimeToCrash, Title: it.Title})
			case verdict.Pass:
				obs = append(obs, stats.Observation{Time: it.Ran})
			default:
				t.Errorf("iteration verdict %s", it.Verdict)
			}
		}
	}
	// A 99.9% interval: this test fails by chance once in a thousand runs.
	crashes := 0
	for _, o := range obs {
		if o.Crashed {
			crashes++
		}
	}
	ci := stats.Wilson(crashes, len(obs), 0.999)
	t.Logf("%d of %d iterations crashed: p in [%.3f, %.3f] at 99.9%%", crashes, len(obs), ci.Lower, ci.Upper)
	if len(obs) != boots*its || p < ci.Lower || p > ci.Upper {
		t.Errorf("%d observations, interval [%.3f, %.3f] misses the true p = %.1f", len(obs), ci.Lower, ci.Upper, p)
	}
}
