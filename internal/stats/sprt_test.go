package stats

import (
	"math"
	"testing"
)

func TestWaldBounds(t *testing.T) {
	// α = β = .05: ±ln(.95/.05) = ±ln 19 = ±2.944 (statistics.md §5).
	b := WaldBounds(0.05, 0.05)
	if !close(b.Upper, math.Log(19), 1e-12) || !close(b.Lower, -math.Log(19), 1e-12) {
		t.Errorf("WaldBounds(.05, .05) = %+v, want ±2.944", b)
	}
	// β = .005 per bisection step (§7): accept H0 at ln(.005/.95) = −5.247.
	if b := WaldBounds(0.05, 0.005); !close(b.Lower, math.Log(0.005/0.95), 1e-12) {
		t.Errorf("lower bound %g", b.Lower)
	}
	for llr, want := range map[float64]SPRTState{3: AcceptH1, -3: AcceptH0, 0: Continue, math.Inf(1): AcceptH1} {
		if got := b.Decide(llr); got != want {
			t.Errorf("Decide(%g) = %v, want %v", llr, got, want)
		}
	}
}

func TestPoissonSPRT(t *testing.T) {
	const mttc = 60.0
	tests := []struct {
		name             string
		lambda0, lambda1 float64
		crashes          int
		wantAccept       float64 // AcceptExposure(crashes)
	}{
		// Good kernel never crashes, bad MTTC 60 s: H0 at 2.944 × 60 = 176.7 VM-s (§5).
		{"λ0 = 0, clean", 0, 1 / mttc, 0, math.Log(19) * mttc},
		// After a crash H1 is already accepted: no exposure accepts H0.
		{"λ0 = 0, crashed", 0, 1 / mttc, 1, math.Inf(1)},
		// Softer H0, MTTC ≥ 600 s: 2.944/(1/60 − 1/600) = 196.3 VM-s (§5).
		{"λ0 = 1/600, clean", 1.0 / 600, 1 / mttc, 0, math.Log(19) / (1/mttc - 1.0/600)},
		// One crash moves the line up by ln 10: (2.3026 + 2.9444)/.015 = 349.8 VM-s.
		{"λ0 = 1/600, one crash", 1.0 / 600, 1 / mttc, 1, (math.Log(10) + math.Log(19)) / (1/mttc - 1.0/600)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewPoissonSPRT(tt.lambda0, tt.lambda1, 0.05, 0.05)
			if err != nil {
				t.Fatal(err)
			}
			got := s.AcceptExposure(tt.crashes)
			if !close(got, tt.wantAccept, 1e-12) {
				t.Fatalf("AcceptExposure(%d) = %g, want %g", tt.crashes, got, tt.wantAccept)
			}
			if math.IsInf(got, 1) {
				return
			}
			// Just before the exact second the test continues; at it, H0 is accepted.
			if d := s.Decide(tt.crashes, got*(1-1e-9)); d != Continue {
				t.Errorf("just before: %v, want continue", d)
			}
			if d := s.Decide(tt.crashes, got*(1+1e-12)); d != AcceptH0 {
				t.Errorf("at %g VM-s: %v, want accept H0", got, d)
			}
		})
	}
}

func TestPoissonSPRTDecide(t *testing.T) {
	soft, _ := NewPoissonSPRT(1.0/600, 1.0/60, 0.05, 0.05)
	hard, _ := NewPoissonSPRT(0, 1.0/60, 0.05, 0.05)
	tests := []struct {
		name     string
		s        PoissonSPRT
		crashes  int
		exposure float64
		want     SPRTState
	}{
		{"first crash decides when λ0 = 0", hard, 1, 1, AcceptH1},
		// Two quick crashes: 2 ln 10 − .015·10 = 4.455 ≥ 2.944.
		{"two quick crashes", soft, 2, 10, AcceptH1},
		// One crash: ln 10 − .015·10 = 2.153 < 2.944.
		{"one quick crash", soft, 1, 10, Continue},
		{"nothing yet", soft, 0, 0, Continue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Decide(tt.crashes, tt.exposure); got != tt.want {
				t.Errorf("Decide(%d, %g) = %v (LLR %g), want %v", tt.crashes, tt.exposure, got, tt.s.LLR(tt.crashes, tt.exposure), tt.want)
			}
		})
	}
}

func TestBernoulliSPRT(t *testing.T) {
	// The paired race of statistics.md §6 at R = 10: p0 = .5, p1 = 10/11. "A first" adds
	// ln(20/11) = +.598, "B first" ln(2/11) = −1.705; exactly 5 A-first pairs decide
	// (5 × .598 = 2.989 ≥ 2.944).
	race, err := NewBernoulliSPRT(0.5, 10.0/11, 0.05, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	if got := race.LLR(1, 1); !close(got, 0.5978370, 1e-6) {
		t.Errorf("A first: %g, want .598", got)
	}
	if got := race.LLR(0, 1); !close(got, -1.704748, 1e-6) {
		t.Errorf("B first: %g, want −1.705", got)
	}
	if race.Decide(4, 4) != Continue || race.Decide(5, 5) != AcceptH1 {
		t.Errorf("4 A-first: %v, 5: %v; want continue, accept H1", race.Decide(4, 4), race.Decide(5, 5))
	}
	// Per-run test with p0 = 0: one crash decides, clean runs each add ln(1 − p1).
	never, _ := NewBernoulliSPRT(0, 0.5, 0.05, 0.05)
	if never.Decide(1, 1) != AcceptH1 {
		t.Errorf("p0 = 0: a crash should decide H1")
	}
	// ln .5 per clean run: 4 runs = −2.77, 5 runs = −3.47 ≤ −2.944.
	if never.Decide(0, 4) != Continue || never.Decide(0, 5) != AcceptH0 {
		t.Errorf("p0 = 0: 4 clean %v, 5 clean %v; want continue, accept H0", never.Decide(0, 4), never.Decide(0, 5))
	}
}

func TestSPRTErrors(t *testing.T) {
	for name, err := range map[string]error{
		"λ1 ≤ λ0":  second(NewPoissonSPRT(1, 1, 0.05, 0.05)),
		"λ1 = Inf": second(NewPoissonSPRT(0, math.Inf(1), 0.05, 0.05)),
		"α = 0":    second(NewPoissonSPRT(0, 1, 0, 0.05)),
		"α+β ≥ 1":  second(NewBernoulliSPRT(0, 1, 0.5, 0.5)),
		"p1 > 1":   second(NewBernoulliSPRT(0, 1.5, 0.05, 0.05)),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func second[T any](_ T, err error) error { return err }
