package sequential

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// feed adds the points of s ('A' or 'B') to t and returns the outcome after each.
func feed(t *pairTest, s string) []Answer {
	var out []Answer
	for _, c := range s {
		t.add(point(c == 'A'))
		out = append(out, t.outcome)
	}
	return out
}

func TestPairTest(t *testing.T) {
	// α = .05 (.025 a side), β = .05, R = 2: bounds ln(.95/.025) = ln 38 = 3.638 and
	// ln(.05/.975) = −2.970. A point for A adds ln(4/3) = .2877 to "A more" and ln(2/3) =
	// −.4055 to "B more"; a point for B the other way round.
	tests := []struct {
		name     string
		points   string
		decideAt int // 1-based point at which the outcome appears
		want     Answer
		wantLLR  [2]float64
	}{{
		// 12 × .2877 = 3.452 < 3.638; 13 × .2877 = 3.740. "B more" accepted its H0 at the
		// 8th point (8 × −.4055 = −3.244; 7 give −2.838) and froze there.
		name: "13 straight points for A", points: strings.Repeat("A", 13),
		decideAt: 13, want: MoreA, wantLLR: [2]float64{13 * math.Log(4.0/3), 8 * math.Log(2.0/3)},
	}, {
		name: "13 straight points for B", points: strings.Repeat("B", 13),
		decideAt: 13, want: MoreB, wantLLR: [2]float64{8 * math.Log(2.0/3), 13 * math.Log(4.0/3)},
	}, {
		// Alternating A, B: after n of each both LLRs are n(.2877 − .4055) = −.1178n.
		// "B more" crosses first, after 23 A and 22 B: 22·.2877 − 23·.4055 = −2.997.
		// "A more" crosses at n = 26: −3.062 ≤ −2.970, so the 52nd point decides.
		name: "alternating", points: strings.Repeat("AB", 26),
		decideAt: 52, want: NoDifference, wantLLR: [2]float64{26 * math.Log(2.0/3*4.0/3), 22*math.Log(4.0/3) + 23*math.Log(2.0/3)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt := newPairTest(0, 1, 0.05, 0.05, 2)
			got := feed(&pt, tt.points)
			for i, o := range got {
				want := Continue
				if i+1 >= tt.decideAt {
					want = tt.want
				}
				if o != want {
					t.Fatalf("after point %d: %v, want %v", i+1, o, want)
				}
			}
			if diff := cmp.Diff(tt.wantLLR, [2]float64{pt.more.llr, pt.less.llr}, approx); diff != "" {
				t.Errorf("LLRs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPairTestIgnoresPointsAfterDecision(t *testing.T) {
	pt := newPairTest(0, 1, 0.05, 0.05, 2)
	feed(&pt, strings.Repeat("A", 13)+strings.Repeat("B", 100))
	if pt.outcome != MoreA || pt.nA != 13 || pt.nB != 0 {
		t.Errorf("outcome %v with %d/%d points, want MoreA with 13/0", pt.outcome, pt.nA, pt.nB)
	}
}

func TestRacePoint(t *testing.T) {
	crash := func(t float64) runRecord { return runRecord{done: true, crashed: true, time: t} }
	clean := func(t float64) runRecord { return runRecord{done: true, time: t} }
	tests := []struct {
		name    string
		a, b    runRecord
		want    point
		wantOK  bool
		perRun  point
		perRunK bool
	}{
		{"A first", crash(10), crash(20), pointA, true, pointA, false},
		{"B first", crash(30), crash(20), pointB, true, pointA, false},
		{"B stopped when A crashed", crash(10), clean(10), pointA, true, pointA, true},
		{"A outlasted B's crash", clean(600), crash(50), pointB, true, pointB, true},
		{"B stopped too early", crash(10), clean(5), pointA, false, pointA, true},
		{"both clean", clean(600), clean(600), pointA, false, pointA, false},
		{"same second", crash(10), crash(10), pointA, false, pointA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := racePoint(tt.a, tt.b)
			if ok != tt.wantOK || (ok && p != tt.want) {
				t.Errorf("racePoint = %v, %v; want %v, %v", p, ok, tt.want, tt.wantOK)
			}
			p, ok = perRunPoint(tt.a, tt.b)
			if ok != tt.perRunK || (ok && p != tt.perRun) {
				t.Errorf("perRunPoint = %v, %v; want %v, %v", p, ok, tt.perRun, tt.perRunK)
			}
		})
	}
}

func TestAdvanceExposure(t *testing.T) {
	// A's crashes at 10, 50, 90 s of its clock (which ends at 100 s); B's at 30 s (clock
	// ends at 60 s). Inside the common 60 s: A at 10, B at 30, A at 50, in that order.
	pt := newPairTest(0, 1, 0.05, 0.05, 2)
	pt.advanceExposure([]float64{10, 50, 90}, []float64{30}, 100, 60)
	if pt.nA != 2 || pt.nB != 1 || pt.ia != 2 || pt.ib != 1 {
		t.Errorf("points %d/%d, cursors %d/%d; want 2/1, 2/1", pt.nA, pt.nB, pt.ia, pt.ib)
	}
	want := 2*math.Log(4.0/3) + math.Log(2.0/3)
	if math.Abs(pt.more.llr-want) > 1e-12 {
		t.Errorf("LLR %g, want %g", pt.more.llr, want)
	}
}
