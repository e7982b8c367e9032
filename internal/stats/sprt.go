package stats

import (
	"fmt"
	"math"
)

// An SPRTState is where a sequential test stands on the data seen so far.
type SPRTState int

const (
	Continue SPRTState = iota // keep sampling
	AcceptH0                  // stop: the null hypothesis (e.g. "clean") holds
	AcceptH1                  // stop: the alternative (e.g. "crashes") holds
)

func (d SPRTState) String() string {
	switch d {
	case AcceptH0:
		return "accept H0"
	case AcceptH1:
		return "accept H1"
	}
	return "continue"
}

// Bounds are Wald's thresholds for a sequential probability ratio test (SPRT) on the
// log-likelihood ratio LLR = ln(L(H1)/L(H0)). They hold the error rates to about α (false
// H1) and β (false H0); overshoot of the bound at the stopping time makes the real rates a
// little smaller, and α/(1−β), β/(1−α) are hard upper limits.
type Bounds struct {
	Lower float64 // accept H0 at LLR ≤ Lower = ln(β/(1−α)); −2.944 for α = β = .05
	Upper float64 // accept H1 at LLR ≥ Upper = ln((1−β)/α); +2.944 for α = β = .05
}

// WaldBounds returns the SPRT bounds for error rates alpha (false H1) and beta (false H0),
// both in (0, 1) with alpha + beta < 1.
func WaldBounds(alpha, beta float64) Bounds {
	return Bounds{Lower: math.Log(beta / (1 - alpha)), Upper: math.Log((1 - beta) / alpha)}
}

// Decide compares llr with the bounds.
func (b Bounds) Decide(llr float64) SPRTState {
	switch {
	case llr >= b.Upper:
		return AcceptH1
	case llr <= b.Lower:
		return AcceptH0
	}
	return Continue
}

// CheckErrorRates says what is wrong with a pair of error rates, or nil when both lie in
// (0, 1) and add up to less than 1.
func CheckErrorRates(alpha, beta float64) error {
	if !(alpha > 0 && alpha < 1 && beta > 0 && beta < 1 && alpha+beta < 1) {
		return fmt.Errorf("error rates α = %g, β = %g: want both in (0, 1) with α + β < 1", alpha, beta)
	}
	return nil
}

// A PoissonSPRT tests a crash rate on exposure time: H0 λ = Lambda0 against H1 λ = Lambda1
// (Lambda1 > Lambda0), with LLR = d·ln(λ1/λ0) − (λ1 − λ0)·E after d crashes in E seconds.
//
// It assumes a constant hazard, so exposure counts the same however it is split into runs.
// Between crashes the LLR falls linearly, so H0 is accepted at an exact exposure
// ([PoissonSPRT.AcceptExposure]) and a harness can stop the VM at that second. With
// Lambda0 = 0 ("the good kernel never crashes") the first crash accepts H1 and H0 is
// accepted after −Lower/Lambda1 seconds: 2.944 × MTTC₁ at α = β = .05.
//
// Lambda1 should come from the long end of a calibration's interval: an optimistic Lambda1
// (MTTC assumed shorter than it is) silently raises β.
type PoissonSPRT struct {
	Lambda0 float64 // crash rate under H0 in crashes per second (0 = never crashes)
	Lambda1 float64 // crash rate under H1 in crashes per second
	Bounds
}

// NewPoissonSPRT returns the exposure SPRT of lambda0 against lambda1 (crashes per second,
// 0 ≤ lambda0 < lambda1) at error rates alpha and beta.
func NewPoissonSPRT(lambda0, lambda1, alpha, beta float64) (PoissonSPRT, error) {
	if !(lambda0 >= 0 && lambda1 > lambda0 && !math.IsInf(lambda1, 1)) {
		return PoissonSPRT{}, fmt.Errorf("rates λ0 = %g, λ1 = %g: want 0 ≤ λ0 < λ1 < ∞", lambda0, lambda1)
	}
	if err := CheckErrorRates(alpha, beta); err != nil {
		return PoissonSPRT{}, err
	}
	return PoissonSPRT{Lambda0: lambda0, Lambda1: lambda1, Bounds: WaldBounds(alpha, beta)}, nil
}

// LLR returns the log-likelihood ratio after crashes crashes in exposure seconds.
func (s PoissonSPRT) LLR(crashes int, exposure float64) float64 {
	drift := -(s.Lambda1 - s.Lambda0) * exposure
	if crashes == 0 {
		return drift
	}
	if s.Lambda0 == 0 {
		return math.Inf(1)
	}
	return float64(crashes)*math.Log(s.Lambda1/s.Lambda0) + drift
}

// Decide returns the test's decision after crashes crashes in exposure seconds. Fed the
// running totals after every run (and at AcceptExposure), it stops at the first crossing.
func (s PoissonSPRT) Decide(crashes int, exposure float64) SPRTState {
	return s.Bounds.Decide(s.LLR(crashes, exposure))
}

// AcceptExposure returns the exposure at which H0 is accepted if no crash follows the
// crashes seen so far: E = (d·ln(λ1/λ0) − Lower)/(λ1 − λ0). It is +Inf when a crash has
// already decided H1 (Lambda0 = 0 and crashes > 0).
func (s PoissonSPRT) AcceptExposure(crashes int) float64 {
	gain := 0.0
	if crashes > 0 {
		if s.Lambda0 == 0 {
			return math.Inf(1)
		}
		gain = float64(crashes) * math.Log(s.Lambda1/s.Lambda0)
	}
	return (gain - s.Lower) / (s.Lambda1 - s.Lambda0)
}

// A BernoulliSPRT tests the probability that a run crashes within its limit: H0 p = P0
// against H1 p = P1 (P1 > P0), with LLR = x·ln(P1/P0) + (n−x)·ln((1−P1)/(1−P0)) after x
// crashes in n runs. It makes no assumption about when in a run crashes happen, only that
// runs are independent and equally long, so it is the test to use when the hazard rises
// during a run (notes/statistics.md §4).
type BernoulliSPRT struct {
	P0 float64 // crash probability per run under H0 (0 = never crashes)
	P1 float64 // crash probability per run under H1
	Bounds
}

// NewBernoulliSPRT returns the per-run SPRT of p0 against p1 (0 ≤ p0 < p1 ≤ 1) at error
// rates alpha and beta.
func NewBernoulliSPRT(p0, p1, alpha, beta float64) (BernoulliSPRT, error) {
	if !(p0 >= 0 && p1 > p0 && p1 <= 1) {
		return BernoulliSPRT{}, fmt.Errorf("probabilities p0 = %g, p1 = %g: want 0 ≤ p0 < p1 ≤ 1", p0, p1)
	}
	if err := CheckErrorRates(alpha, beta); err != nil {
		return BernoulliSPRT{}, err
	}
	return BernoulliSPRT{P0: p0, P1: p1, Bounds: WaldBounds(alpha, beta)}, nil
}

// LLR returns the log-likelihood ratio after crashes crashes in runs runs.
func (s BernoulliSPRT) LLR(crashes, runs int) float64 {
	return llrTerm(crashes, s.P1, s.P0) + llrTerm(runs-crashes, 1-s.P1, 1-s.P0)
}

// llrTerm is k·ln(p1/p0), taking 0·ln(anything) as 0 and k·ln(p/0) as +Inf.
func llrTerm(k int, p1, p0 float64) float64 {
	switch {
	case k == 0:
		return 0
	case p1 == 0:
		return math.Inf(-1)
	case p0 == 0:
		return math.Inf(1)
	}
	return float64(k) * math.Log(p1/p0)
}

// Decide returns the test's decision after crashes crashes in runs runs.
func (s BernoulliSPRT) Decide(crashes, runs int) SPRTState {
	return s.Bounds.Decide(s.LLR(crashes, runs))
}
