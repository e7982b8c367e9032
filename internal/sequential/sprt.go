package sequential

import (
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

// A oneSided is one of the two SPRTs a pairTest runs on its points, a
// stats.BernoulliSPRT of p = ½ against p = R/(1+R) on the share of points one side won
// ("A crashes more" counts A's points, "B crashes more" B's). It freezes at its first
// decision.
type oneSided struct {
	sprt  stats.BernoulliSPRT
	mine  bool // which points count as successes: pointA for "A crashes more"
	wins  int  // points of its side
	total int
	llr   float64
	state stats.SPRTState
}

func newOneSided(sprt stats.BernoulliSPRT, mine point) oneSided {
	return oneSided{sprt: sprt, mine: bool(mine)}
}

func (s *oneSided) add(p point) {
	if s.state != stats.Continue {
		return
	}
	s.total++
	if bool(p) == s.mine {
		s.wins++
	}
	s.llr = s.sprt.LLR(s.wins, s.total)
	s.state = s.sprt.Bounds.Decide(s.llr)
}

// A pairTest is the sequential test of variant a against variant b: two one-sided SPRTs
// on the same points, "a crashes more" (p1 = R/(1+R)) and "b crashes more" (p1 = 1/(1+R)),
// each at α/2 and β. The first to accept its H1 decides; "no difference" needs both to
// accept H0.
type pairTest struct {
	a, b    int // variant indices
	more    oneSided
	less    oneSided
	nA, nB  int      // points seen
	ia, ib  int      // Exposure: next unread crash of a and of b on their clocks
	ev      evidence // LogRank: the evidence on all finished runs
	closed  [2]bool  // LogRank: "A more", "B more" can no longer be decided
	outcome Answer
}

// newPairTest returns the test of a against b at error rates alpha (both directions
// together) and beta for a difference of ratio.
func newPairTest(a, b int, alpha, beta, ratio float64) pairTest {
	sprt, err := stats.NewBernoulliSPRT(0.5, ratio/(1+ratio), alpha/2, beta)
	if err != nil {
		panic(err) // Config.withDefaults has checked the rates and the ratio
	}
	return pairTest{a: a, b: b, more: newOneSided(sprt, pointA), less: newOneSided(sprt, pointB)}
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
