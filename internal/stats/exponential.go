package stats

import (
	"fmt"
	"math"
	"time"
)

// A Rate is the crash rate of one configuration under the censored exponential model:
// d crashes in E seconds of exposure (all runs, crashed or not, counted up to their crash or
// their end), assuming a constant hazard.
type Rate struct {
	Crashes  int     // d, crashes observed
	Exposure float64 // E, reproducer seconds summed over all runs (VM-seconds without boot)
	Conf     float64 // confidence level of the intervals (0.95 for 95 %)

	// Rate is the maximum likelihood estimate d/E in crashes per second, with the exact
	// chi-square interval [χ²_{α/2}(2d)/2E, χ²_{1−α/2}(2d+2)/2E]. With d = 0 the interval is
	// the one-sided bound [0, −ln α / E] and the estimate is 0.
	Rate Interval

	// MTTC is the mean time to crash E/d in seconds, the same interval inverted: its Upper
	// is +Inf when d = 0, and its Estimate is +Inf as well.
	MTTC Interval

	Warnings []string
}

// PerHour converts a rate in crashes per second to crashes per hour.
func PerHour(perSecond float64) float64 { return perSecond * 3600 }

// Exponential estimates the crash rate and MTTC from crashes crashes in exposure seconds of
// reproducer time at confidence conf (0.95 if not in (0, 1)). The caller counts every run's
// time up to its crash or its end, so censored runs add exposure without adding crashes.
//
// With no crash the result is only an upper bound on the rate (a lower bound on MTTC), and
// a warning says so; [Summarize] rewrites it with the number of runs.
func Exponential(crashes int, exposure float64, conf float64) Rate {
	alpha, conf := alphaOf(conf)
	r := Rate{Crashes: crashes, Exposure: exposure, Conf: conf}
	if crashes < 0 || !(exposure > 0) || math.IsInf(exposure, 1) {
		r.Rate = Interval{Estimate: math.NaN(), Lower: 0, Upper: math.Inf(1), Conf: conf}
		r.MTTC = Interval{Estimate: math.NaN(), Lower: 0, Upper: math.Inf(1), Conf: conf}
		r.Warnings = append(r.Warnings, fmt.Sprintf("no exposure (%g s): rate unknown", exposure))
		return r
	}
	d := float64(crashes)
	twoE := 2 * exposure
	if crashes == 0 {
		hi := -math.Log(alpha) / exposure
		r.Rate = Interval{Estimate: 0, Lower: 0, Upper: hi, Conf: conf}
		r.MTTC = Interval{Estimate: math.Inf(1), Lower: 1 / hi, Upper: math.Inf(1), Conf: conf}
		r.Warnings = append(r.Warnings, NoCrashWarning(-1, exposure, hi, conf))
		return r
	}
	lo := ChiSquareQuantile(alpha/2, 2*d) / twoE
	hi := ChiSquareQuantile(1-alpha/2, 2*d+2) / twoE
	r.Rate = Interval{Estimate: d / exposure, Lower: lo, Upper: hi, Conf: conf}
	r.MTTC = Interval{Estimate: exposure / d, Lower: 1 / hi, Upper: 1 / lo, Conf: conf}
	if crashes < 3 {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"only %d crash(es): MTTC is known to within a factor of %.0f", crashes, hi/lo))
	}
	return r
}

// NoCrashWarning formats the warning for a configuration that never crashed:
// "no crash in 10 runs / 30m0s VM-time: rate < 5.99 per hour at 95%". runs < 0 leaves out
// the run count; bound is the upper bound on the rate in crashes per second.
func NoCrashWarning(runs int, exposure, bound, conf float64) string {
	what := fmt.Sprintf("%s VM-time", FormatSeconds(exposure))
	switch {
	case runs == 1:
		what = "1 run / " + what
	case runs >= 0:
		what = fmt.Sprintf("%d runs / %s", runs, what)
	}
	return fmt.Sprintf("no crash in %s: rate < %.3g per hour at %s", what, PerHour(bound), Percent(conf))
}

// FormatSeconds renders seconds as a Go duration rounded to a readable precision:
// "1m48s", "2h0m0s", "3.5s", "+Inf s".
func FormatSeconds(s float64) string {
	if math.IsInf(s, 0) || math.IsNaN(s) || math.Abs(s) > 1e9 {
		return fmt.Sprintf("%g s", s)
	}
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Minute:
		d = d.Round(time.Second)
	case d >= time.Second:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Millisecond)
	}
	return d.String()
}

// Percent formats a confidence level such as 0.95 as "95%".
func Percent(conf float64) string { return fmt.Sprintf("%.4g%%", conf*100) }
