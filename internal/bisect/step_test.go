package bisect

import (
	"context"
	"strings"
	"testing"
)

// scripted is a Runner that plays fixed sequences per role, repeating the last sample.
type scripted struct {
	seq   map[Role][]Sample
	calls map[Role]int
	stops []float64
}

func (s *scripted) Run(_ context.Context, who Role, stopAt float64) (Sample, error) {
	if s.calls == nil {
		s.calls = map[Role]int{}
	}
	q := s.seq[who]
	i := min(s.calls[who], len(q)-1)
	s.calls[who]++
	if who == Candidate {
		s.stops = append(s.stops, stopAt)
	}
	return q[i], nil
}

var (
	crash    = Sample{Crashed: true, Time: 1, VM: 3, Title: "kernel panic"}
	clean    = Sample{Time: 10, VM: 12}
	noBoot   = Sample{Status: Skip, VM: 2, Note: "no console output"}
	hostFail = Sample{Status: Retry, VM: 1, Note: "qemu died"}
)

func TestRunStep(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cand    []Sample
		prior   []Sample
		want    Verdict
		reason  string
		maxRuns int // candidate runs at most
	}{
		{"crashes every run", []Sample{crash}, nil, Bad, "crashes more than the good side", 12},
		{"never crashes", []Sample{clean}, nil, Good, "crashes less than the bad side", 12},
		{"never boots", []Sample{noBoot}, nil, Skipped, "did not boot (2 tries)", 2},
		{"one boot failure among crashes", []Sample{crash, noBoot, crash}, nil, Bad, "crashes more", 13},
		{"host failures only", []Sample{hostFail}, nil, Inconclusive, "5 failed boots in a row", 5},
		{"earlier runs count", []Sample{crash}, []Sample{crash, crash, crash, crash, crash, crash}, Bad, "crashes more", 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &scripted{seq: map[Role][]Sample{Candidate: tc.cand, GoodSide: {clean}, BadSide: {crash}}}
			refs := &References{}
			var seen int
			res, err := RunStep(context.Background(), Config{Limit: 10}, 0.01, r, refs, tc.prior, func(who Role, s Sample) {
				if who == Candidate {
					seen++
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.want || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("verdict %v (%s), want %v (%s)", res.Verdict, res.Reason, tc.want, tc.reason)
			}
			if len(res.Runs) > tc.maxRuns {
				t.Errorf("%d candidate runs, want at most %d", len(res.Runs), tc.maxRuns)
			}
			if seen != r.calls[Candidate] || len(res.Runs) != seen+len(tc.prior) && res.Verdict != Skipped {
				t.Errorf("onRun saw %d new runs, runner made %d, result holds %d (prior %d)", seen, r.calls[Candidate],
					len(res.Runs), len(tc.prior))
			}
			// A bad partner that crashed at 1 s stops the candidate at 2 s.
			for _, s := range r.stops {
				if s != 2 {
					t.Errorf("candidate asked to stop at %g s, want 2", s)
					break
				}
			}
		})
	}
}

// TestRunStepReusesReferences: a second step spends no reference runs it already has.
func TestRunStepReusesReferences(t *testing.T) {
	refs := &References{}
	r := &scripted{seq: map[Role][]Sample{Candidate: {crash}, GoodSide: {clean}, BadSide: {crash}}}
	if _, err := RunStep(context.Background(), Config{Limit: 10}, 0.01, r, refs, nil, nil); err != nil {
		t.Fatal(err)
	}
	good := r.calls[GoodSide]
	r2 := &scripted{seq: r.seq}
	res, err := RunStep(context.Background(), Config{Limit: 10}, 0.01, r2, refs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r2.calls[GoodSide] != 0 || r2.calls[BadSide] != 0 || res.Verdict != Bad {
		t.Errorf("second step: %d good and %d bad runs (first step made %d good), verdict %v: want 0 and 0, bad",
			r2.calls[GoodSide], r2.calls[BadSide], good, res.Verdict)
	}
}
