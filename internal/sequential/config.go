package sequential

import (
	"errors"
	"fmt"
	"math"

	"github.com/crashrig/crashrig/internal/stats"
)

// A Method is how a comparison turns runs into evidence. LogRank, the default, weighs
// every finished run's crash time or censoring with mixture e-values; the other three feed
// a pair of SPRTs with points (see the package documentation) and differ in what counts as
// a point for A or for B and in what they assume.
type Method int

const (
	// LogRank pools the finished runs of both variants and weighs their crash times,
	// clean ends and early stops by the two-sample partial likelihood (the likelihood
	// behind the log-rank test), with crash times closer than Ties counted as tied. Its
	// e-values hold α at every look for any hazard shape, and a crash in every run of
	// one variant against none of the other decides after 5 runs each. A run whose heat
	// partner crashed stops at StopFactor times that crash (the same second by default).
	// The default.
	LogRank Method = iota
	// Race pairs the i-th run of A with the i-th run of B, started alike, and gives the
	// point to the one that crashes first in reproducer time; the other run can stop at
	// that second (StopAfter). A pair where neither crashes within the limit gives no
	// point. It is exact for identical variants whatever the hazard shape, and its β holds
	// whenever the hazards are proportional.
	Race
	// Exposure lays each variant's runs end to end on its own exposure clock and gives a
	// point to every crash inside the exposure both variants have covered. It wastes no
	// VM second but assumes a constant hazard: with a falling hazard (crashes early or
	// never) its α is far above nominal.
	Exposure
	// PerRun pairs runs like Race but lets both run to the limit and counts the pairs
	// where only one crashed: a test of p(crash within the limit) that assumes nothing
	// about when in a run crashes happen. All runs must have the same limit, at least the
	// p95 time to crash.
	PerRun
)

func (m Method) String() string {
	switch m {
	case Exposure:
		return "exposure"
	case PerRun:
		return "per-run"
	case Race:
		return "race"
	}
	return "log-rank"
}

// ParseMethod is the inverse of Method.String ("logrank" is taken for log-rank).
func ParseMethod(name string) (Method, error) {
	for _, m := range []Method{LogRank, Race, Exposure, PerRun} {
		if name == m.String() {
			return m, nil
		}
	}
	if name == "logrank" {
		return LogRank, nil
	}
	return LogRank, fmt.Errorf("method %q: want log-rank, race, exposure or per-run", name)
}

// Defaults used for zero Config fields.
const (
	DefaultAlpha    = 0.05
	DefaultBeta     = 0.05
	DefaultMinRatio = 2.0
	// DefaultStopFactor is how far past its partner's crash a LogRank run goes on: to
	// the same second, which in simulation costs the least VM time per decision.
	DefaultStopFactor = 1.0
)

// A Config describes one comparison.
type Config struct {
	// Variants names the run configurations compared, at least two. Variants[0] is A, the
	// reference every other variant is compared with; with two variants, B is Variants[1].
	Variants []string

	// Alpha is the probability of declaring a difference between variants that crash
	// alike, split evenly between "A crashes more" and "B crashes more" and, with more
	// than two variants, between the comparisons (Bonferroni). 0 = DefaultAlpha.
	Alpha float64
	// Beta is the probability of missing a difference of MinRatio: saying "no difference"
	// or "B crashes more" when A crashes MinRatio times as often as B (and the other way
	// round). 0 = DefaultBeta.
	Beta float64
	// MinRatio is the smallest difference worth finding, > 1 (0 = DefaultMinRatio): the
	// hazard ratio λA/λB for Race and Exposure (with constant hazards, the ratio of crash
	// rates and of MTTCs), the odds ratio of crashing within a run for PerRun.
	MinRatio float64

	Method Method

	// StopFactor (LogRank) > 1 is how long a run whose heat partner crashed at t goes on:
	// to StopFactor·t (0 = DefaultStopFactor). Ties (LogRank) says which crash times
	// count as equal (zero = stats.DefaultTies).
	StopFactor float64
	Ties       stats.Ties

	// Title, if set, makes only crashes with this title count; a run that crashed with
	// another title ends there and counts as clean time up to that crash.
	Title string

	// Limit is the configured run length in seconds, the same for every run. Next uses
	// it as the expected length of a run before any has finished, to balance exposure and
	// to keep running runs inside MaxVMSeconds (0 = unknown).
	Limit float64

	// MaxVMSeconds bounds the VM time of all variants together, boot included when Observations
	// carry it (0 = no limit). MaxRuns bounds the number of runs of all variants together
	// (0 = no limit). When either is spent without a decision, the outcome is Undecided.
	MaxVMSeconds float64
	MaxRuns      int

	// FixedRuns > 0 selects the fixed design instead of the sequential test: exactly
	// FixedRuns runs per variant, interleaved, then one fixed-sample test (the exact
	// rate-ratio test, or Fisher's for PerRun). The budget is not used: FixedRuns is.
	FixedRuns int
}

// withDefaults returns cfg with zero fields set to their defaults, or an error saying which
// field is wrong.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Variants) < 2 {
		return cfg, errors.New("comparison needs at least two variants")
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = DefaultAlpha
	}
	if cfg.Beta == 0 {
		cfg.Beta = DefaultBeta
	}
	if cfg.MinRatio == 0 {
		cfg.MinRatio = DefaultMinRatio
	}
	if cfg.StopFactor == 0 {
		cfg.StopFactor = DefaultStopFactor
	}
	if cfg.Ties == (stats.Ties{}) {
		cfg.Ties = stats.DefaultTies
	}
	switch {
	case !(cfg.StopFactor >= 1):
		return cfg, fmt.Errorf("stop factor %g: want at least 1", cfg.StopFactor)
	case stats.CheckErrorRates(cfg.Alpha, cfg.Beta) != nil:
		return cfg, stats.CheckErrorRates(cfg.Alpha, cfg.Beta)
	case !(cfg.MinRatio > 1) || math.IsInf(cfg.MinRatio, 1):
		return cfg, fmt.Errorf("minimum ratio %g: want a finite ratio above 1", cfg.MinRatio)
	case cfg.Method < LogRank || cfg.Method > PerRun:
		return cfg, fmt.Errorf("unknown method %d", cfg.Method)
	case cfg.Limit < 0 || cfg.MaxVMSeconds < 0 || cfg.MaxRuns < 0 || cfg.FixedRuns < 0:
		return cfg, errors.New("limit, budget and fixed run count must not be negative")
	}
	return cfg, nil
}

// pairAlpha is the false-difference probability allowed to one comparison (both
// directions together).
func (cfg Config) pairAlpha() float64 {
	return cfg.Alpha / float64(len(cfg.Variants)-1)
}
