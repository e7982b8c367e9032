package batch

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

// fakeBoot returns canned verdicts after a short wait and tracks how many
// boots run at once.
type fakeBoot struct {
	verdicts  []verdict.Verdict // by boot number, the last one repeats
	wait      time.Duration
	crashWait time.Duration // 0 = wait
	mu        sync.Mutex
	n         int
	running   atomic.Int32
	maxSeen   atomic.Int32
}

func (f *fakeBoot) Boot(ctx context.Context) (*record.Run, error) {
	f.mu.Lock()
	v := f.verdicts[min(f.n, len(f.verdicts)-1)]
	f.n++
	f.mu.Unlock()
	now := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxSeen.Load()
		if now <= m || f.maxSeen.CompareAndSwap(m, now) {
			break
		}
	}
	wait := f.wait
	if v == verdict.Crash && f.crashWait > 0 {
		wait = f.crashWait
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return &record.Run{Outcome: verdict.Outcome{Verdict: verdict.Interrupted}}, nil
	}
	return &record.Run{Outcome: verdict.Outcome{Verdict: v}, Wall: f.wait.Seconds()}, nil
}

type memRecorder struct {
	started, finished, interrupted int
}

func (m *memRecorder) Started(int) (int64, error) { m.started++; return int64(m.started), nil }
func (m *memRecorder) Finished(_ int64, _ int, r *record.Run) error {
	if r.Verdict == verdict.Interrupted {
		m.interrupted++
	} else {
		m.finished++
	}
	return nil
}

func TestRepeat(t *testing.T) {
	tests := []struct {
		name     string
		policy   Repeat
		verdicts []verdict.Verdict
		jobs     int
		wantRuns int
		wantMaxJ int32
		wantIntr int
	}{
		{"n runs, two at a time", Repeat{Runs: 6}, []verdict.Verdict{verdict.Pass}, 2, 6, 2, 0},
		{"once by default", Repeat{}, []verdict.Verdict{verdict.Pass}, 3, 1, 1, 0},
		{"until crash, one at a time", Repeat{UntilCrash: true}, []verdict.Verdict{verdict.Pass, verdict.Pass, verdict.Crash}, 1, 3, 1, 0},
		// With two slots the run beside the crash is cut short and counted as interrupted.
		{"until crash stops the run in flight", Repeat{UntilCrash: true}, []verdict.Verdict{verdict.Crash, verdict.Pass}, 2, 2, 2, 1},
		{"budget", Repeat{Budget: 100 * time.Millisecond}, []verdict.Verdict{verdict.Pass}, 1, 5, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := &fakeBoot{verdicts: tt.verdicts, wait: 20 * time.Millisecond}
			if tt.name == "until crash stops the run in flight" {
				fb.wait, fb.crashWait = time.Minute, 20*time.Millisecond
			}
			rec := &memRecorder{}
			p := tt.policy
			sum, err := Run(context.Background(), Options{Jobs: tt.jobs, Variants: []Booter{fb}, Policy: &p, Recorder: rec})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(sum.Results[0]); got != tt.wantRuns {
				t.Errorf("runs %d, want %d", got, tt.wantRuns)
			}
			if got := fb.maxSeen.Load(); got != tt.wantMaxJ {
				t.Errorf("max concurrent %d, want %d", got, tt.wantMaxJ)
			}
			if rec.started != tt.wantRuns || rec.interrupted != tt.wantIntr || sum.Interrupted != tt.wantIntr {
				t.Errorf("recorded %+v, summary interrupted %d", rec, sum.Interrupted)
			}
		})
	}
}

func TestCancelRecordsInterrupted(t *testing.T) {
	fb := &fakeBoot{verdicts: []verdict.Verdict{verdict.Pass}, wait: time.Hour}
	rec := &memRecorder{}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	sum, err := Run(ctx, Options{Jobs: 2, Variants: []Booter{fb}, Policy: &Repeat{Runs: 10}, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Interrupted != 2 || rec.interrupted != 2 || rec.finished != 0 || rec.started != 2 {
		t.Errorf("summary %+v recorder %+v: want the 2 runs in flight interrupted and nothing else started", sum, rec)
	}
}

// TestHostFailuresStop: a host that fails every boot ends the batch after
// MaxHostFailures of them with an error, instead of looping (a policy that hands a
// failed run's place to the next, as a comparison does, never runs out).
func TestHostFailuresStop(t *testing.T) {
	fb := &fakeBoot{verdicts: []verdict.Verdict{verdict.Pass, verdict.InfraFail}, wait: time.Millisecond}
	sum, err := Run(context.Background(), Options{Jobs: 1, Variants: []Booter{fb}, Policy: &Repeat{}})
	_ = sum
	if err != nil {
		t.Fatalf("one run: %v", err)
	}
	fb = &fakeBoot{verdicts: []verdict.Verdict{verdict.Pass, verdict.InfraFail}, wait: time.Millisecond}
	sum, err = Run(context.Background(), Options{Jobs: 2, Variants: []Booter{fb}, Policy: &Repeat{Runs: 0, UntilCrash: true}})
	if err == nil || !sum.HostFailed || !strings.Contains(err.Error(), "boots all failed on the host") {
		t.Fatalf("Run = %v, host failed %v; want it stopped with an error", err, sum.HostFailed)
	}
	if n := countAll(sum); n < MaxHostFailures+1 || n > MaxHostFailures+3 {
		t.Errorf("%d boots before stopping, want %d (the pass, then %d failures, give or take the other slot)", n, MaxHostFailures+1, MaxHostFailures)
	}
}
