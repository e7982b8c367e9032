package bisect

import (
	"fmt"
	"math"
)

// Defaults for zero Config fields.
const (
	DefaultConfidence = 0.95
	DefaultMinRatio   = 2.0
	DefaultStepRuns   = 100
)

// A Config sets the error budget and the per-step limits of a bisection.
type Config struct {
	// Confidence is the target probability that the culprit named is right (0 =
	// DefaultConfidence), in (0, 1).
	Confidence float64
	// MinRatio is the smallest crash-rate ratio between bad and good that a step must
	// tell apart, > 1 (0 = DefaultMinRatio).
	MinRatio float64
	// Limit is the run length in seconds (reproducer time).
	Limit float64
	// StepRuns bounds the candidate runs of one step (0 = DefaultStepRuns); StepVMSeconds
	// bounds the VM seconds a step spends, reference runs included (0 = no limit). A step
	// that reaches either bound without a decision is inconclusive.
	StepRuns      int
	StepVMSeconds float64
}

func (c Config) withDefaults() (Config, error) {
	if c.Confidence == 0 {
		c.Confidence = DefaultConfidence
	}
	if c.MinRatio == 0 {
		c.MinRatio = DefaultMinRatio
	}
	if c.StepRuns == 0 {
		c.StepRuns = DefaultStepRuns
	}
	switch {
	case !(c.Confidence > 0 && c.Confidence < 1):
		return c, fmt.Errorf("confidence %g: want a probability strictly between 0 and 1", c.Confidence)
	case !(c.MinRatio > 1) || math.IsInf(c.MinRatio, 1):
		return c, fmt.Errorf("minimum ratio %g: want a finite ratio above 1", c.MinRatio)
	case !(c.Limit > 0) || math.IsInf(c.Limit, 1):
		return c, fmt.Errorf("run length %g s: want a positive duration", c.Limit)
	case c.StepRuns < 0 || c.StepVMSeconds < 0:
		return c, fmt.Errorf("step budget (%d runs, %g VM-s): want 0 (default) or more", c.StepRuns, c.StepVMSeconds)
	}
	return c, nil
}

// ExpectedSteps is the number of steps a bisection of n candidates is planned for: one to
// check the endpoints and ⌈log₂ n⌉ to halve n candidates down to one.
func ExpectedSteps(n int) int {
	if n < 1 {
		n = 1
	}
	return 1 + int(math.Ceil(math.Log2(float64(n))))
}

// Share returns the error probability step j (from 1) may spend when the whole may spend
// total and s steps are planned: total/(s+1) for each of the first s steps, and the last
// total/(s+1) spread over steps past s, halving each time. The shares sum to less than
// total however many steps there are.
func Share(total float64, s, j int) float64 {
	if s < 1 {
		s = 1
	}
	each := total / float64(s+1)
	if j <= s {
		return each
	}
	return each * math.Pow(2, -float64(j-s))
}
