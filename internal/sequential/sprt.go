package sequential

import (
	"math"

	"github.com/crashrig/crashrig/internal/stats"
)

// A point is one piece of evidence: a crash of A or of B that came first (Race), that fell
// inside the exposure both variants covered (Exposure), or a run pair where only A or only
// B crashed (PerRun). Under "no difference" each point is A's with probability ½; when A
// crashes R times as often, with probability R/(1+R).
type point bool

const (
	pointA point = true
	pointB point = false
)

// A oneSided is one of the two SPRTs a pairTest runs on its points: H0 p = ½ against H1
// p = p1, where p is the probability that a point is A's. It freezes at its first
// decision.
type oneSided struct {
	llr    float64
	stepA  float64 // LLR change for a point of A: ln(p1/½)
	stepB  float64 // LLR change for a point of B: ln((1−p1)/½)
	bounds stats.Bounds
	state  stats.Decision
}

func newOneSided(p1 float64, bounds stats.Bounds) oneSided {
	return oneSided{stepA: math.Log(2 * p1), stepB: math.Log(2 * (1 - p1)), bounds: bounds}
}

func (s *oneSided) add(p point) {
	if s.state != stats.Continue {
		return
	}
	if p == pointA {
		s.llr += s.stepA
	} else {
		s.llr += s.stepB
	}
	s.state = s.bounds.Decide(s.llr)
}

// A pairTest is the sequential test of variant a against variant b: two one-sided SPRTs
// on the same points, "a crashes more" (p1 = R/(1+R)) and "b crashes more" (p1 = 1/(1+R)),
// each at α/2 and β. The first to accept its H1 decides; "no difference" needs both to
// accept H0.
type pairTest struct {
	a, b    int // variant indices
	more    oneSided
	less    oneSided
	nA, nB  int // points seen
	ia, ib  int // Exposure: next unread crash of a and of b on their clocks
	outcome Outcome
}

// newPairTest returns the test of a against b at error rates alpha (both directions
// together) and beta for a difference of ratio.
func newPairTest(a, b int, alpha, beta, ratio float64) pairTest {
	bounds := stats.WaldBounds(alpha/2, beta)
	p1 := ratio / (1 + ratio)
	return pairTest{a: a, b: b, more: newOneSided(p1, bounds), less: newOneSided(1-p1, bounds)}
}

// add feeds one point and updates the outcome; a decided test ignores it.
func (t *pairTest) add(p point) {
	if t.outcome != Continue {
		return
	}
	if p == pointA {
		t.nA++
	} else {
		t.nB++
	}
	t.more.add(p)
	t.less.add(p)
	switch {
	case t.more.state == stats.AcceptH1:
		t.outcome = MoreA
	case t.less.state == stats.AcceptH1:
		t.outcome = MoreB
	case t.more.state == stats.AcceptH0 && t.less.state == stats.AcceptH0:
		t.outcome = NoDifference
	}
}
