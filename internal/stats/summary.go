package stats

import (
	"fmt"
	"math"
	"sort"
)

// An Observation is one run that reached the reproducer, as the statistics see it.
//
// Boot failures, host (infra) failures and interrupted runs are not observations: the
// caller leaves them out, because they say nothing about the kernel. A hang may be passed
// either as a crash (Title "hang", Time when progress stopped) or as censored at the time
// the run was given up; the caller picks one and says so in its report.
type Observation struct {
	Crashed bool    // the run ended in a crash
	Time    float64 // seconds from reproducer start to the crash, or to the run's end if censored
	Title   string  // crash title (ignored when Crashed is false; "" if unknown)
	Limit   float64 // the run's configured duration in seconds (0 = unknown)
}

// A TitleCount is how often one crash title appeared.
type TitleCount struct {
	Title   string
	Crashes int      // runs that crashed with this title
	P       Interval // crashes/runs with a Wilson interval: p(this crash within the limit)
}

// CountTitles counts crashes per title over runs runs (crashed or not) and returns them
// with Wilson intervals at level conf, most frequent first, ties by title. Runs without a
// crash are not listed; a crash with an empty title is counted under "".
func CountTitles(obs []Observation, conf float64) []TitleCount {
	counts := map[string]int{}
	for _, o := range obs {
		if o.Crashed {
			counts[o.Title]++
		}
	}
	var out []TitleCount
	for title, n := range counts {
		out = append(out, TitleCount{Title: title, Crashes: n, P: Wilson(n, len(obs), conf)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Crashes != out[j].Crashes {
			return out[i].Crashes > out[j].Crashes
		}
		return out[i].Title < out[j].Title
	})
	return out
}

// A Summary is everything crashrig reports about repeated runs of one configuration.
type Summary struct {
	Runs     int     // observations used
	Crashes  int     // of which crashed
	Exposure float64 // reproducer seconds over all runs, crashed or censored
	Conf     float64 // confidence level of every interval

	// PCrash is p(crash within Limit): crashes/runs with a Wilson interval when every run
	// crashed or lasted its limit, and 1 − Ŝ(Limit) from the Kaplan–Meier curve when some
	// ended clean earlier (stopped by a comparison, or a reproducer that exits early), so
	// that a stopped run counts only as far as it ran. It depends on the run limit, so it
	// is only comparable between configurations with the same Limit.
	PCrash Interval
	Limit  float64 // the common run limit in seconds; 0 when runs had different or unknown limits

	Rate     Rate         // censored exponential rate and MTTC with exact intervals
	Survival Survival     // Kaplan–Meier curve
	Hazard   Hazard       // constant-hazard check behind Rate
	Titles   []TitleCount // crashes per title, most frequent first

	Warnings []string // what the reader must know before trusting the numbers above
}

// Summarize computes a Summary of obs at confidence level conf (0.95 if not in (0, 1)).
// Observations with a negative or NaN Time are dropped with a warning.
func Summarize(obs []Observation, conf float64) Summary {
	_, conf = alphaOf(conf)
	usable, bad := sortedByTime(obs)
	s := Summary{Runs: len(usable), Conf: conf}
	if bad > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d observation(s) with a negative or missing time dropped", bad))
	}
	for _, o := range usable {
		s.Exposure += o.Time
		if o.Crashed {
			s.Crashes++
		}
	}
	s.PCrash = Wilson(s.Crashes, s.Runs, conf)
	s.Limit = commonLimit(usable)
	s.Rate = Exponential(s.Crashes, s.Exposure, conf)
	s.Survival = KaplanMeier(usable, conf)
	if s.Limit > 0 && shortRuns(usable) > 0 {
		var known float64
		s.PCrash, known = s.Survival.CrashWithin(s.Limit)
		if known < fullRun*s.Limit {
			s.Warnings = append(s.Warnings, fmt.Sprintf("no run went on past %s without a crash: p(crash) is known only within %s",
				FormatSeconds(known), FormatSeconds(known)))
		}
	}
	s.Hazard = CheckHazard(usable)
	s.Titles = CountTitles(usable, conf)
	s.Warnings = append(s.Warnings, s.summaryWarnings(usable)...)
	return s
}

// summaryWarnings collects the warnings of the parts, rewording the no-crash one with
// the run count, and adds the ones only the whole can see.
func (s Summary) summaryWarnings(usable []Observation) []string {
	var w []string
	switch {
	case s.Runs == 0:
		return []string{"no runs: nothing to report"}
	case s.Crashes == 0:
		w = append(w, NoCrashWarning(s.Runs, s.Exposure, s.Rate.Rate.Upper, s.Conf))
	default:
		w = append(w, s.Rate.Warnings...)
	}
	if s.Limit == 0 {
		w = append(w, limitWarnings(usable)...)
	}
	if over := overLimit(usable); over > 0 {
		w = append(w, fmt.Sprintf("%d run(s) lasted longer than their limit", over))
	}
	if s.Crashes > 0 && s.Crashes < HazardMinCrashes {
		w = append(w, fmt.Sprintf("only %d crash(es): cannot check that the hazard is constant, which MTTC assumes", s.Crashes))
	}
	if len(s.Titles) > 1 {
		w = append(w, fmt.Sprintf("%d different crash titles: the rate counts them all; see the per-title table", len(s.Titles)))
	}
	return append(w, s.Hazard.Warnings...)
}

// fullRun is the share of its limit a clean run must last to count as having run it
// all: start-up and timer granularity keep a full run a little short.
const fullRun = 0.95

// shortRuns counts the runs that ended clean well before their limit.
func shortRuns(obs []Observation) int {
	n := 0
	for _, o := range obs {
		if !o.Crashed && o.Limit > 0 && o.Time < fullRun*o.Limit {
			n++
		}
	}
	return n
}

// commonLimit returns the limit shared by all observations, or 0.
func commonLimit(obs []Observation) float64 {
	if len(obs) == 0 {
		return 0
	}
	for _, o := range obs {
		if o.Limit != obs[0].Limit {
			return 0
		}
	}
	return obs[0].Limit
}

// limitWarnings explains why there is no common limit.
func limitWarnings(obs []Observation) []string {
	var w []string
	lo, hi, unknown := math.Inf(1), 0.0, 0
	for _, o := range obs {
		if o.Limit <= 0 {
			unknown++
			continue
		}
		lo, hi = math.Min(lo, o.Limit), math.Max(hi, o.Limit)
	}
	if hi > lo {
		w = append(w, fmt.Sprintf("runs had different limits (%s to %s): p(crash) mixes them; compare by rate",
			FormatSeconds(lo), FormatSeconds(hi)))
	}
	if unknown > 0 && unknown < len(obs) {
		w = append(w, fmt.Sprintf("%d run(s) without a recorded limit: p(crash within T) has no single T", unknown))
	}
	return w
}

// overLimit counts observations whose Time exceeds a known Limit by more than a second,
// which suggests a unit mix-up by the caller.
func overLimit(obs []Observation) int {
	n := 0
	for _, o := range obs {
		if o.Limit > 0 && o.Time > o.Limit+1 {
			n++
		}
	}
	return n
}
