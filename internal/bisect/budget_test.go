package bisect

import (
	"math"
	"testing"
)

func TestExpectedSteps(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{1, 1}, {2, 2}, {3, 3}, {4, 3}, {5, 4}, {685, 11}, {1024, 11}, {1025, 12},
	} {
		if got := ExpectedSteps(tc.n); got != tc.want {
			t.Errorf("ExpectedSteps(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestShareSumsBelowTotal(t *testing.T) {
	for _, s := range []int{1, 3, 8, 20} {
		sum := 0.0
		for j := 1; j <= 200; j++ {
			sum += Share(0.05, s, j)
		}
		if sum > 0.05 {
			t.Errorf("s=%d: shares of 200 steps sum to %g > 0.05", s, sum)
		}
		// s=3: 0.05/4 = 0.0125 per planned step; step 5 gets 0.0125/4.
		if s == 3 && math.Abs(Share(0.05, s, 5)-0.003125) > 1e-12 {
			t.Errorf("Share(0.05, 3, 5) = %g, want 0.003125", Share(0.05, s, 5))
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Confidence: 1, Limit: 1}, {Confidence: -0.1, Limit: 1}, {MinRatio: 1, Limit: 1},
		{Limit: 0}, {Limit: 1, StepRuns: -1}, {Limit: math.Inf(1)},
	} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
