package bisect

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// setSim is a simulated build: a kernel crashes by bad when its flagged set satisfies
// crashes, and by good (never) otherwise.
type setSim struct {
	cfg     Config
	rng     *rand.Rand
	bad     Law
	crashes func(set map[string]bool) bool
	refs    References
	cur     map[string]bool
	all     map[string]bool
	builds  int
}

func (s *setSim) Test(ctx context.Context, set []string, share float64) (StepResult, error) {
	s.builds++
	s.cur = map[string]bool{}
	for _, o := range set {
		s.cur[o] = true
	}
	return RunStep(ctx, s.cfg, share, s, &s.refs, nil, nil)
}

func (s *setSim) Run(_ context.Context, who Role, stopAt float64) (Sample, error) {
	set := s.cur
	switch who {
	case GoodSide:
		set = nil
	case BadSide:
		set = s.all
	}
	end := s.cfg.Limit
	if stopAt > 0 {
		end = min(end, stopAt)
	}
	if s.crashes(set) {
		if t := s.bad.Sample(s.rng); t < end {
			return Sample{Crashed: true, Time: t, VM: 2 + t}, nil
		}
	}
	return Sample{Time: end, VM: 2 + end, Stopped: end < s.cfg.Limit}, nil
}

func objectNames(n int) []string {
	var o []string
	for i := range n {
		o = append(o, fmt.Sprintf("dir%d/obj%03d.o", i%7, i))
	}
	slices.Sort(o)
	return o
}

// TestMinimalSimulated runs the search on 200 simulated objects with flaky crashes: one
// culprit, two that each crash alone (either is a right answer), and two that crash only
// together (both must be named).
func TestMinimalSimulated(t *testing.T) {
	reps := 1000
	if testing.Short() {
		reps = 100
	}
	objs := objectNames(200)
	type scenario struct {
		name  string
		law   Law
		pick  func(rng *rand.Rand) []string
		rule  func(culprits []string) func(map[string]bool) bool
		right func(got, culprits []string) bool
	}
	one := func(rng *rand.Rand) []string { return []string{objs[rng.IntN(len(objs))]} }
	two := func(rng *rand.Rand) []string {
		i := rng.Perm(len(objs))
		return []string{objs[i[0]], objs[i[1]]}
	}
	any := func(c []string) func(map[string]bool) bool {
		return func(s map[string]bool) bool { return s[c[0]] || (len(c) > 1 && s[c[1]]) }
	}
	all := func(c []string) func(map[string]bool) bool {
		return func(s map[string]bool) bool { return s[c[0]] && s[c[1]] }
	}
	exact := func(got, c []string) bool { slices.Sort(c); return slices.Equal(got, c) }
	oneOf := func(got, c []string) bool { return len(got) == 1 && slices.Contains(c, got[0]) }
	for _, sc := range []scenario{
		{"one culprit, exp(20s)", Law{Mean: 20}, one, any, exact},
		{"one culprit, weibull k=0.5, 50% of runs", Law{Mean: 20, Shape: 0.5, Reproduce: 0.5}, one, any, exact},
		{"two culprits, either crashes", Law{Mean: 20}, two, any, oneOf},
		{"two culprits, only together", Law{Mean: 20}, two, all, exact},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			right, wrong, open := 0, 0, 0
			vm, builds := 0.0, 0
			for range reps {
				c := sc.pick(rng)
				st := &setSim{cfg: Config{Limit: 60}, rng: rng, bad: sc.law, crashes: sc.rule(c), all: map[string]bool{}}
				for _, o := range objs {
					st.all[o] = true
				}
				res, err := Minimal(context.Background(), st.cfg, objs, st)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case res.Exact && sc.right(res.Culprits, c):
					right++
				case !res.Exact && containsAll(res.Culprits, c[:1]):
					open++
				default:
					wrong++
				}
				vm += res.VM / float64(reps)
				builds += st.builds
			}
			t.Logf("%d searches: %d right, %d wrong, %d open; %.0f VM-s and %.1f builds each", reps, right, wrong, open, vm,
				float64(builds)/float64(reps))
			n := float64(reps)
			if w := float64(wrong) / n; w > 0.05+3*math.Sqrt(0.05*0.95/n) {
				t.Errorf("wrong in %.1f%%, want at most 5%%", 100*w)
			}
			if r := float64(right) / n; r < 0.95-3*math.Sqrt(0.05*0.95/n) {
				t.Errorf("right in %.1f%%, want at least 95%%", 100*r)
			}
		})
	}
}

func containsAll(set, want []string) bool {
	for _, w := range want {
		if !slices.Contains(set, w) {
			return false
		}
	}
	return true
}
