package sequential

import "math"

// A runRecord is what a comparison knows about one run, found by its Seq.
type runRecord struct {
	issued  bool    // handed out by Next and not yet recorded or cancelled
	done    bool    // an Observation arrived
	crashed bool    // it crashed (with Config.Title, with that title)
	time    float64 // reproducer seconds to the crash or to where the run ended
	ended   bool    // the reproducer ended clean by itself: it could not have crashed later
}

// racePoint scores a finished pair for Race: the point goes to the run that crashed
// first, provided the other was seen to outlast that moment. Two clean runs, or a crash
// after the other run was stopped, carry no point.
func racePoint(a, b runRecord) (point, bool) {
	switch {
	case a.crashed && b.crashed && a.time != b.time:
		return point(a.time < b.time), true
	case a.crashed && !b.crashed && b.time >= a.time:
		return pointA, true
	case b.crashed && !a.crashed && a.time >= b.time:
		return pointB, true
	}
	return pointA, false
}

// perRunPoint scores a finished pair for PerRun: a point when exactly one run crashed.
func perRunPoint(a, b runRecord) (point, bool) {
	if a.crashed != b.crashed {
		return point(a.crashed), true
	}
	return pointA, false
}

// raceStop returns how long a run should go on whose partners in the same heat finished
// at the given records: until the last of them ended, when every partner has finished
// (after that the run can no longer change a point), and false otherwise.
func raceStop(partners []runRecord) (float64, bool) {
	at := 0.0
	for _, p := range partners {
		if !p.done {
			return 0, false
		}
		at = math.Max(at, p.time)
	}
	return at, len(partners) > 0
}

// advanceExposure feeds t the crashes of a and b that lie within the exposure both have
// covered, in exposure order. crashesA and crashesB are the variants' crash positions on
// their own exposure clocks (increasing); exposureA and exposureB the clocks' ends.
func (t *pairTest) advanceExposure(crashesA, crashesB []float64, exposureA, exposureB float64) {
	common := math.Min(exposureA, exposureB)
	for t.outcome == Continue {
		nextA, nextB := math.Inf(1), math.Inf(1)
		if t.ia < len(crashesA) {
			nextA = crashesA[t.ia]
		}
		if t.ib < len(crashesB) {
			nextB = crashesB[t.ib]
		}
		switch {
		case nextA <= nextB && nextA <= common:
			t.ia++
			t.add(pointA)
		case nextB < nextA && nextB <= common:
			t.ib++
			t.add(pointB)
		default:
			return
		}
	}
}

// exposureStop returns the exposure the lagging variant (t.a or t.b) must reach without a
// crash for t to decide on crashes the other variant already had, and false if that alone
// cannot decide it. The clocks are as for advanceExposure, with t advanced to them.
func (t pairTest) exposureStop(lagging int, crashesA, crashesB []float64, exposureA, exposureB float64) (float64, bool) {
	lead, leadEnd, lagEnd, p, cursor := crashesB, exposureB, exposureA, pointB, &t.ib
	if lagging == t.b {
		lead, leadEnd, lagEnd, p, cursor = crashesA, exposureA, exposureB, pointA, &t.ia
	}
	if t.outcome != Continue || lagEnd >= leadEnd {
		return 0, false
	}
	for ; *cursor < len(lead); *cursor++ {
		t.add(p) // t is a copy: this only looks ahead
		if t.outcome != Continue {
			return lead[*cursor], true
		}
	}
	return 0, false
}
