package sequential

import (
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	for _, m := range []Method{Race} {
		cfg := Config{Variants: []string{"A", "B"}, Limit: 600, Method: m}
		for _, sc := range []Scenario{
			{Name: "60 vs never, stop early", Variants: []Distribution{Exp(60), Never()}, Limit: 600, StopEarly: true},
			{Name: "60 vs 120", Variants: []Distribution{Exp(60), Exp(120)}, Limit: 600, StopEarly: true},
			{Name: "60 vs 60", Variants: []Distribution{Exp(60), Exp(60)}, Limit: 600, StopEarly: true},
			{Name: "600 vs 600", Variants: []Distribution{Exp(600), Exp(600)}, Limit: 600, StopEarly: true},
		} {
			start := time.Now()
			r, err := Simulate(cfg, sc, 1000, 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v %-22s A+ %.3f B+ %.3f = %.3f ? %.3f  vm %.0f p95 %.0f runs %.1f  %v", m, sc.Name, r.Rate(MoreA), r.Rate(MoreB), r.Rate(NoDifference), r.Rate(Undecided), r.MeanVM, r.P95VM, r.MeanRuns, time.Since(start))
		}
	}
}
