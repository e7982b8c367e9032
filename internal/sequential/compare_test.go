package sequential

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustNew(t *testing.T, cfg Config) *Comparison {
	t.Helper()
	if cfg.Variants == nil {
		cfg.Variants = []string{"A", "B"}
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustRecord(t *testing.T, c *Comparison, r Observation) {
	t.Helper()
	if err := c.Record(r); err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, c *Comparison) Ticket {
	t.Helper()
	tk, ok := c.Next()
	if !ok {
		t.Fatal("Next: no run to start")
	}
	return tk
}

func TestNextOrder(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		want  []Ticket
		stops bool // Next refuses after want
	}{
		{"race interleaves", Config{}, []Ticket{{0, 1}, {1, 1}, {0, 2}, {1, 2}, {0, 3}}, false},
		{"fixed hands out N each", Config{FixedRuns: 2}, []Ticket{{0, 1}, {1, 1}, {0, 2}, {1, 2}}, true},
		{"three variants", Config{Variants: []string{"A", "B", "C"}}, []Ticket{{0, 1}, {1, 1}, {2, 1}, {0, 2}}, false},
		{"run budget", Config{MaxRuns: 3}, []Ticket{{0, 1}, {1, 1}, {0, 2}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, tt.cfg)
			var got []Ticket
			for len(got) < len(tt.want)+1 {
				tk, ok := c.Next()
				if !ok {
					break
				}
				got = append(got, tk)
			}
			if !tt.stops && len(got) > len(tt.want) {
				got = got[:len(tt.want)]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tickets (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNextBalancesExposure: with the Exposure method a variant whose runs crash early
// gets more runs, so both cover the same exposure.
func TestNextBalancesExposure(t *testing.T) {
	c := mustNew(t, Config{Method: Exposure, Limit: 600})
	a1, b1 := next(t, c), next(t, c)
	mustRecord(t, c, Observation{Ticket: a1, Crashed: true, Exposure: 60})
	// A: 60 s done; B: 0 done + one running, expected 600 s. A goes again.
	a2 := next(t, c)
	if a2 != (Ticket{0, 2}) {
		t.Fatalf("after A crashed at 60 s: %+v, want A#2", a2)
	}
	mustRecord(t, c, Observation{Ticket: a2, Crashed: true, Exposure: 500})
	// A: 560 s < B's expected 600 s.
	if tk := next(t, c); tk != (Ticket{0, 3}) {
		t.Fatalf("A at 560 s: %+v, want A#3", tk)
	}
	mustRecord(t, c, Observation{Ticket: b1, Exposure: 600})
	// B: 600 s; A: 560 s + one running at its mean of 280 s = 840 s.
	if tk := next(t, c); tk != (Ticket{1, 2}) {
		t.Fatalf("B at 600 s: %+v, want B#2", tk)
	}
}

func TestCancelReusesSeq(t *testing.T) {
	c := mustNew(t, Config{})
	a1, _ := next(t, c), next(t, c)
	c.Cancel(a1)
	c.Cancel(a1) // twice is harmless
	if tk := next(t, c); tk != a1 {
		t.Errorf("after cancelling %+v: %+v", a1, tk)
	}
}

func TestRecordErrors(t *testing.T) {
	c := mustNew(t, Config{})
	tk := next(t, c)
	mustRecord(t, c, Observation{Ticket: tk, Exposure: 10})
	for name, r := range map[string]Observation{
		"twice":            {Ticket: tk, Exposure: 10},
		"unknown variant":  {Ticket: Ticket{Variant: 2}, Exposure: 10},
		"negative time":    {Ticket: Ticket{Variant: 1}, Exposure: -1},
		"infinite time":    {Ticket: Ticket{Variant: 1}, Exposure: math.Inf(1)},
		"negative seq":     {Ticket: Ticket{Variant: 1, Seq: -1}, Exposure: 1},
		"not a number":     {Ticket: Ticket{Variant: 1}, Exposure: math.NaN()},
		"negative variant": {Ticket: Ticket{Variant: -1}, Exposure: 1},
	} {
		if err := c.Record(r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"one variant": {Variants: []string{"A"}},
		"ratio 1":     {Variants: []string{"A", "B"}, MinRatio: 1},
		"alpha 1":     {Variants: []string{"A", "B"}, Alpha: 1},
		"method":      {Variants: []string{"A", "B"}, Method: 7},
		"negative":    {Variants: []string{"A", "B"}, MaxRuns: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRecordWithoutTickets: results with Seq 0 pair up in the order recorded.
func TestRecordWithoutTickets(t *testing.T) {
	c := mustNew(t, Config{Method: Race})
	for i := 0; i < 13; i++ {
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 0}, Crashed: true, Exposure: 30})
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 1}, Exposure: 600})
	}
	d := c.Decisions()[0]
	if d.Outcome != MoreA || d.Points != [2]int{13, 0} || !c.Done() {
		t.Errorf("outcome %v, points %v, done %v; want MoreA after 13 heats", d.Outcome, d.Points, c.Done())
	}
	if _, ok := c.Next(); ok {
		t.Errorf("Next after the decision")
	}
}

func TestStopAfterRace(t *testing.T) {
	c := mustNew(t, Config{Method: Race})
	a1, b1 := next(t, c), next(t, c)
	if _, ok := c.StopAfter(a1); ok {
		t.Errorf("A#1 can stop before B#1 finished")
	}
	mustRecord(t, c, Observation{Ticket: a1, Crashed: true, Exposure: 42})
	if s, ok := c.StopAfter(b1); !ok || s != 42 {
		t.Errorf("B#1 after A#1 crashed at 42 s: StopAfter = %g, %v; want 42", s, ok)
	}
	if _, ok := c.StopAfter(Ticket{1, 2}); ok {
		t.Errorf("a run never handed out can stop")
	}
	mustRecord(t, c, Observation{Ticket: b1, Exposure: 42})
	if d := c.Decisions()[0]; d.Points != [2]int{1, 0} {
		t.Errorf("points %v, want A's", d.Points)
	}
	// A clean run to the limit: the partner has nothing to add after 600 s either.
	a2, b2 := next(t, c), next(t, c)
	mustRecord(t, c, Observation{Ticket: a2, Exposure: 600})
	if s, ok := c.StopAfter(b2); !ok || s != 600 {
		t.Errorf("B#2 after A#2 ran clean: StopAfter = %g, %v; want 600", s, ok)
	}
}

// TestStopAfterExposure: A crashed 13 times in 780 s; B, clean so far, decides "A
// crashes more" when its clock reaches A's 13th crash.
func TestStopAfterExposure(t *testing.T) {
	c := mustNew(t, Config{Method: Exposure, Limit: 600})
	a1, b1 := next(t, c), next(t, c)
	mustRecord(t, c, Observation{Ticket: a1, Crashed: true, Exposure: 60})
	for i := 0; i < 12; i++ {
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 0}, Crashed: true, Exposure: 60})
	}
	s, ok := c.StopAfter(b1)
	if !ok || math.Abs(s-780) > 1e-5 {
		t.Fatalf("StopAfter(B#1) = %g, %v; want 780 s", s, ok)
	}
	mustRecord(t, c, Observation{Ticket: b1, Exposure: s})
	if d := c.Decisions()[0]; d.Outcome != MoreA {
		t.Errorf("after B ran clean to %g s: %v", s, d.Outcome)
	}
}

func TestStopAfterPerRunAndFixed(t *testing.T) {
	for _, cfg := range []Config{{Method: PerRun}, {FixedRuns: 3}} {
		c := mustNew(t, cfg)
		a1, b1 := next(t, c), next(t, c)
		mustRecord(t, c, Observation{Ticket: a1, Crashed: true, Exposure: 42})
		if _, ok := c.StopAfter(b1); ok {
			t.Errorf("%+v: StopAfter offered", cfg)
		}
	}
}

func TestBudget(t *testing.T) {
	c := mustNew(t, Config{MaxVMSeconds: 1000, Limit: 600})
	a1, b1 := next(t, c), next(t, c)
	mustRecord(t, c, Observation{Ticket: a1, Exposure: 600, VMTime: 610})
	if _, ok := c.Next(); ok {
		t.Errorf("Next with 610 s spent and B expected to take 600 s more")
	}
	if c.Done() {
		t.Errorf("done while B#1 is running")
	}
	mustRecord(t, c, Observation{Ticket: b1, Exposure: 600, VMTime: 610})
	d := c.Decisions()[0]
	if !c.Done() || d.Outcome != Undecided || d.VMTime != 1220 {
		t.Errorf("done %v, outcome %v, VM time %g; want undecided after 1220 s", c.Done(), d.Outcome, d.VMTime)
	}
}

func TestTitleFilter(t *testing.T) {
	c := mustNew(t, Config{Title: "WARNING in foo"})
	mustRecord(t, c, Observation{Ticket: Ticket{Variant: 0}, Crashed: true, Exposure: 5, Title: "BUG: bar"})
	mustRecord(t, c, Observation{Ticket: Ticket{Variant: 1}, Crashed: true, Exposure: 9, Title: "WARNING in foo"})
	d := c.Decisions()[0]
	// A's crash with another title ended its run clean at 5 s; B's crash at 9 s is later,
	// so the heat gives no point.
	if d.Crashes != [2]int{0, 1} || d.Points != [2]int{0, 0} {
		t.Errorf("crashes %v, points %v; want [0 1], [0 0]", d.Crashes, d.Points)
	}
}

// TestThreeVariants: each comparison gets α/2 and a decided one stops scheduling its
// variant.
func TestThreeVariants(t *testing.T) {
	c := mustNew(t, Config{Variants: []string{"A", "B", "C"}, Method: Race})
	for i := 0; i < 15; i++ {
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 0}, Crashed: true, Exposure: 30})
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 1}, Exposure: 600})
	}
	ds := c.Decisions()
	// At α/2 = .025 per comparison (.0125 a side): ln(.95/.0125) = 4.33 needs 16 points.
	if ds[0].Outcome != Continue || ds[0].Ratio.Conf != 0.975 {
		t.Fatalf("A vs B after 15 heats: %v at %g", ds[0].Outcome, ds[0].Ratio.Conf)
	}
	mustRecord(t, c, Observation{Ticket: Ticket{Variant: 0}, Crashed: true, Exposure: 30})
	mustRecord(t, c, Observation{Ticket: Ticket{Variant: 1}, Exposure: 600})
	if o := c.Decisions()[0].Outcome; o != MoreA {
		t.Fatalf("A vs B after 16 heats: %v", o)
	}
	for i := 0; i < 4; i++ {
		if tk := next(t, c); tk.Variant == 1 {
			t.Errorf("B scheduled after its comparison was decided: %+v", tk)
		}
	}
}

func TestDecisionString(t *testing.T) {
	c := mustNew(t, Config{Variants: []string{"v6.1", "v6.2"}, Method: Race})
	for i := 0; i < 13; i++ {
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 0}, Crashed: true, Exposure: 60})
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 1}, Exposure: 60})
	}
	// 13 of 13 points: Clopper–Pearson lower .025^(1/13) = .7530 → ratio ≥ .7530/.2470 = 3.0.
	want := "v6.1 crashes more than v6.2: hazard ratio ∞ [3, ∞] at 95% (13 vs 0 crashes, 1.56e+03 VM-s)"
	if got := c.Decisions()[0].String(); got != want {
		t.Errorf("String() =\n%q, want\n%q", got, want)
	}
}

func TestDecisionWarnings(t *testing.T) {
	c := mustNew(t, Config{Method: Exposure})
	mustRecord(t, c, Observation{Ticket: Ticket{Variant: 0}, Exposure: 1800})
	mustRecord(t, c, Observation{Ticket: Ticket{Variant: 1}, Exposure: 600})
	want := []string{
		"exposure is unbalanced (A: 30m0s, B: 10m0s): the sequential test used the common 10m0s",
		"neither variant crashed: the ratio is unknown; rates A < 5.99 per hour, B < 18 per hour",
	}
	if diff := cmp.Diff(want, c.Decisions()[0].Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestDecisionWarnsOnHazard: the exposure method says when its assumption fails.
func TestDecisionWarnsOnHazard(t *testing.T) {
	c := mustNew(t, Config{Method: Exposure, MinRatio: 100})
	for i := 1; i <= 30; i++ {
		u := (float64(i) - 0.5) / 30
		t60 := 60 * math.Sqrt(-math.Log(1-u)) // Weibull k = 2 quantiles
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 0}, Crashed: true, Exposure: t60})
		mustRecord(t, c, Observation{Ticket: Ticket{Variant: 1}, Crashed: true, Exposure: t60})
	}
	w := strings.Join(c.Decisions()[0].Warnings, "\n")
	if !strings.Contains(w, "A: the exposure test assumes a constant hazard") || !strings.Contains(w, "A: hazard rises during a run") {
		t.Errorf("warnings do not flag the rising hazard:\n%s", w)
	}
}
