package stats

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSummarize(t *testing.T) {
	limit := func(o Observation) Observation { o.Limit = 600; return o }
	obs := []Observation{
		limit(titled(30, "WARNING in foo")),
		limit(titled(90, "WARNING in foo")),
		limit(titled(200, "BUG: bar")),
	}
	for i := 0; i < 7; i++ {
		obs = append(obs, clean(600))
	}
	s := Summarize(obs, 0.95)

	// 3 crashes in 10 runs; exposure 30 + 90 + 200 + 7·600 = 4520 VM-s, MTTC 4520/3.
	if s.Runs != 10 || s.Crashes != 3 || s.Exposure != 4520 || s.Limit != 600 {
		t.Errorf("runs %d, crashes %d, exposure %g, limit %g; want 10, 3, 4520, 600", s.Runs, s.Crashes, s.Exposure, s.Limit)
	}
	if diff := cmp.Diff(Wilson(3, 10, 0.95), s.PCrash, approx); diff != "" {
		t.Errorf("PCrash (-want +got):\n%s", diff)
	}
	if !close(s.Rate.MTTC.Estimate, 4520.0/3, 1e-12) {
		t.Errorf("MTTC %g, want %g", s.Rate.MTTC.Estimate, 4520.0/3)
	}
	if got := s.Survival.At(100); !close(got, 0.8, 1e-12) {
		t.Errorf("Ŝ(100) = %g, want .8", got)
	}
	wantTitles := []TitleCount{
		{Title: "WARNING in foo", Crashes: 2, P: Wilson(2, 10, 0.95)},
		{Title: "BUG: bar", Crashes: 1, P: Wilson(1, 10, 0.95)},
	}
	if diff := cmp.Diff(wantTitles, s.Titles, approx); diff != "" {
		t.Errorf("titles (-want +got):\n%s", diff)
	}
	wantWarnings := []string{
		"only 3 crash(es): cannot check that the hazard is constant, which MTTC assumes",
		"2 different crash titles: the rate counts them all; see the per-title table",
	}
	if diff := cmp.Diff(wantWarnings, s.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestSummarizeWarnings(t *testing.T) {
	tests := []struct {
		name string
		obs  []Observation
		want []string
	}{{
		// 10 clean 10-minute runs: λ < 2.996/6000 s = 1.80 per hour.
		name: "no crash",
		obs:  repeat(clean(600), 10),
		want: []string{"no crash in 10 runs / 1h40m0s VM-time: rate < 1.8 per hour at 95%"},
	}, {
		name: "different limits",
		obs:  append(repeat(clean(600), 2), clean(60), crash(10)),
		want: []string{
			"only 1 crash(es): MTTC is known to within a factor of 220",
			"runs had different limits (1m0s to 10m0s): p(crash) mixes them; compare by rate",
			"1 run(s) without a recorded limit: p(crash within T) has no single T",
			"only 1 crash(es): cannot check that the hazard is constant, which MTTC assumes",
		},
	}, {
		name: "bad observations and a run past its limit",
		obs:  []Observation{{Time: -3}, {Time: 700, Limit: 600}},
		want: []string{
			"1 observation(s) with a negative or missing time dropped",
			"no crash in 1 run / 11m40s VM-time: rate < 15.4 per hour at 95%",
			"1 run(s) lasted longer than their limit",
		},
	}, {
		name: "rising hazard",
		obs:  weibullRuns(40, 2, 60, 90),
		want: []string{"hazard rises during a run (Weibull shape 2, p = 1.1e-05): crashes need time to build up, " +
			"so many short runs can miss what one long run finds; keep the run limit ≥ 1m22s (p95 time to crash) " +
			"and judge by runs (Bernoulli SPRT), not by total exposure"},
	}, {
		name: "nothing",
		want: []string{"no runs: nothing to report"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Summarize(tt.obs, 0.95).Warnings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func repeat(o Observation, n int) []Observation {
	out := make([]Observation, n)
	for i := range out {
		out[i] = o
	}
	return out
}

// TestSummarizeCensoring: adding clean runs lowers the rate but never the crash count, and
// an MTTC interval from censored data still contains the estimate.
func TestSummarizeCensoring(t *testing.T) {
	obs := []Observation{crash(40), crash(80), crash(120), crash(160), crash(200)}
	prev := math.Inf(1)
	for i := 0; i < 5; i++ {
		s := Summarize(obs, 0.95)
		if s.Crashes != 5 || s.Rate.Rate.Estimate >= prev || !s.Rate.MTTC.Contains(s.Rate.MTTC.Estimate) {
			t.Errorf("%d clean runs: crashes %d, rate %v (previous %g)", i, s.Crashes, s.Rate.Rate, prev)
		}
		prev = s.Rate.Rate.Estimate
		obs = append(obs, clean(300))
	}
}
