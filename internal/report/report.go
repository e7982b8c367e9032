// Package report holds every view crashrig shows people and programs. The
// session and comparison report renders as a terminal table, Markdown, JSON and
// a self-contained HTML page with inline SVG plots; one run (RunText, RunJSON)
// and one parsed console log (ParsedLog) have their own views. The CLI only
// chooses a view.
//
// What goes in: a Model of one or more Variants, each a stats.Summary with its run counts and
// the console excerpts of its crashes (FromSession builds one from a stored session,
// FromRecords from store records), plus an optional Decision that crashrig compare fills in
// (ComparisonDecision). What comes out: the same tables, numbers and numbered footnotes in
// every format. Out of scope: choosing runs and deciding anything; the report shows what it
// is given, with the warnings the statistics raise.
//
// The tables are built once (view.go) and rendered by sibling renderers. Every warning becomes
// a footnote next to the number it qualifies. With more than one variant each is compared with
// the first by its crash rate (stats.CompareRates); a `~` marks a difference that is not
// significant at the model's confidence level.
//
// # Hangs
//
// A hang (the guest stopped making progress: no heartbeat, or no exit after its duration) is
// counted as a crash, titled "hang: " plus the verdict's title ("hang: no heartbeat"), at the
// time of its last heartbeat. A lockup or deadlock under the reproducer is a kernel failure the
// user wants to see; leaving hangs out, or censoring them, would make a kernel that deadlocks look
// clean. The title keeps hangs apart from other crashes in the per-title table, and a footnote
// says how they were counted. Boot failures, host failures and interrupted runs say nothing
// about the kernel under test and are left out (counted in Variant.Excluded).
package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/stats"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// HangPrefix starts the title under which a hang is counted as a crash.
const HangPrefix = "hang: "

// A Variant is one configuration's results.
type Variant struct {
	Name        string         // "" for a single unnamed configuration; "old", "new", "A"...
	Description string         // e.g. "6.1.0-56-cloud-amd64 · go20427 -d 2m · smp 2 · tcg"
	Summary     stats.Summary  // from stats.Summarize over the observations
	Runs        int            // boots, including the excluded ones (0 = not known)
	Excluded    map[string]int // boots left out of the statistics, by verdict
	Reused      int            // runs that came from earlier sessions (compare --reuse)
	Hangs       int            // hangs counted as crashes titled HangPrefix+…
	Stopped     int            // runs a comparison stopped early: censored where they stopped
	Crashes     []Excerpt      // one per crashed (or hung) run, in run order
}

// An Excerpt is the console evidence of one crashed run.
type Excerpt struct {
	RunID       int64
	Title       string
	TimeToCrash float64 // seconds from reproducer start
	Text        string  // the crash report as found on the console
}

// A Decision is the conclusion of a comparison (crashrig compare), shown above the tables.
type Decision struct {
	Text       string // "new crashes more than old"
	Confidence string // "95%", or a sentence
	RatioText  string // "rate ratio 7.5 [2.9, 24]"
	Items      []DecisionItem
}

// A DecisionItem is one comparison of the baseline A with another variant B, in numbers
// for machine output.
type DecisionItem struct {
	A, B    string
	Outcome string // a-more, b-more, no-difference, both-always, undecided, running
	Method  string
	Effect  string         // what Ratio measures: "hazard ratio", "rate ratio", "odds ratio"
	Ratio   stats.Interval // A relative to B
	// Evidence: the e-values of "A crashes more" and "B crashes more" and the threshold
	// either must reach (log-rank; 0 otherwise), and a single-look p-value for reference.
	EMoreA, EMoreB, Threshold float64
	P                         float64
	TimeRatio                 float64 // B's median time to crash over A's when both always crash, else NaN
	Runs, Crashes, Stopped    [2]int
	VMSeconds                 [2]float64
	PCrash                    [2]stats.Interval // p(crash within the limit), Kaplan–Meier
	MedianTTC                 [2]float64        // +Inf when fewer than half crashed
	Budget                    string            // set when a budget ended the comparison before its test
}

// A Model is everything one report shows.
type Model struct {
	Title     string
	Session   int64 // the store session it was built from (0: none)
	Generated time.Time
	Variants  []Variant
	Decision  *Decision
	Warnings  []string // model-level; each variant's Summary.Warnings are footnoted too
	Conf      float64  // confidence level of comparisons (0.95 if not in (0, 1))

	// Campaign holds a batch's cells, changes and crash logs (crashrig batch; nil otherwise).
	Campaign *Campaign
}

// FromRecords builds a variant from store records. Every iteration of a finished run is one
// observation: a crash is crashed at its time to crash, a pass is censored at the time it
// ran, and a hang is a crash titled "hang: …" at its last heartbeat (see the package comment).
// Boot-fail, infra-fail and interrupted runs, and runs still going, are left out and counted in
// Excluded by verdict ("running" for the last); iterations that never started are skipped.
// text returns the console excerpt of a crashed run (nil: none). conf is the confidence level.
func FromRecords(name, description string, recs []store.RunRecord, text func(runID int64) string, conf float64) Variant {
	v := Variant{Name: name, Description: description, Runs: len(recs), Excluded: map[string]int{}}
	var obs []stats.Observation
	for _, r := range recs {
		if why := excludedAs(r); why != "" {
			v.Excluded[why]++
			continue
		}
		var first *stats.Observation
		for _, it := range iterations(r) {
			o := stats.Observation{Limit: r.Config.Duration}
			switch it.Verdict {
			case verdict.Crash:
				o.Crashed, o.Time, o.Title = true, it.TimeToCrash, it.Title
			case verdict.Hang:
				o.Crashed, o.Time, o.Title = true, it.Ran, hangTitle(it.Title)
				v.Hangs++
			case verdict.Pass, verdict.Stopped:
				o.Time = it.Ran
				if it.Verdict == verdict.Stopped {
					v.Stopped++
				}
			default:
				continue
			}
			obs = append(obs, o)
			if o.Crashed && first == nil {
				first = &obs[len(obs)-1]
			}
		}
		if first != nil {
			e := Excerpt{RunID: r.ID, Title: first.Title, TimeToCrash: first.Time}
			if text != nil {
				e.Text = text(r.ID)
			}
			v.Crashes = append(v.Crashes, e)
		}
	}
	if len(v.Excluded) == 0 {
		v.Excluded = nil
	}
	v.Summary = stats.Summarize(obs, conf)
	return v
}

// excludedAs says why a record is not an observation ("" if it is one).
func excludedAs(r store.RunRecord) string {
	switch {
	case r.Status == "running":
		return "running"
	case r.Status != "done" || r.Verdict == verdict.Interrupted:
		return string(verdict.Interrupted)
	case r.Verdict == verdict.BootFail || r.Verdict == verdict.InfraFail:
		return string(r.Verdict)
	}
	return ""
}

// iterations returns a record's iterations, or one made from the run's own fields for a
// record that has none.
func iterations(r store.RunRecord) []verdict.Iteration {
	if len(r.Iterations) > 0 {
		return r.Iterations
	}
	it := verdict.Iteration{Verdict: r.Verdict, Title: r.Title, TimeToCrash: r.TimeToCrash, Ran: r.TimeToCrash}
	if r.Verdict == verdict.Pass {
		it.Ran = r.Config.Duration
		if it.Ran <= 0 {
			it.Ran = math.Max(r.Wall-r.Boot, 0)
		}
	}
	return []verdict.Iteration{it}
}

func hangTitle(title string) string {
	if title == "" {
		title = "no heartbeat"
	}
	return HangPrefix + title
}

// conf returns the model's confidence level.
func (m *Model) conf() float64 {
	if m.Conf > 0 && m.Conf < 1 {
		return m.Conf
	}
	return 0.95
}

// A versus is a variant's crash rate compared with the first variant's.
type versus struct {
	Baseline    string
	Ratio       stats.RateRatio
	Significant bool
}

// compare compares variant i with the first; nil for the first and for a single variant.
func (m *Model) compare(i int) *versus {
	if i == 0 || len(m.Variants) < 2 {
		return nil
	}
	a, b := m.Variants[i].Summary, m.Variants[0].Summary
	r := stats.CompareRates(a.Crashes, a.Exposure, b.Crashes, b.Exposure, m.conf())
	sig := a.Crashes+b.Crashes > 0 && a.Exposure > 0 && b.Exposure > 0 && r.P <= 1-m.conf()
	return &versus{Baseline: variantName(m.Variants[0], 0), Ratio: r, Significant: sig}
}

// variantName is the name shown for variant i.
func variantName(v Variant, i int) string {
	if v.Name != "" {
		return v.Name
	}
	return fmt.Sprintf("#%d", i+1)
}

// Notes the report itself adds, next to the statistics' own warnings.
const hangNote = `a hang (the guest stopped making progress: no heartbeat, or no exit after its duration) ` +
	`counts as a crash at its last heartbeat, titled "hang: …": a lockup or deadlock is a kernel failure too`

// excludedNote explains the boots left out of a variant's statistics ("" if none).
func excludedNote(ex map[string]int) string {
	order := []string{string(verdict.BootFail), string(verdict.InfraFail), string(verdict.Interrupted), "running"}
	var keys []string
	for k := range ex {
		if !contains(order, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	total := 0
	for _, k := range append(order, keys...) {
		if n := ex[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
			total += n
		}
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("%d boot(s) left out of the statistics (%s): they never reached the reproducer, "+
		"the host failed, or they did not finish", total, strings.Join(parts, ", "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func excludedTotal(ex map[string]int) int {
	n := 0
	for _, c := range ex {
		n += c
	}
	return n
}

// runNotes are the notes on a variant's run count.
func runNotes(v Variant) []string {
	var w []string
	if s := excludedNote(v.Excluded); s != "" {
		w = append(w, s)
	}
	if boots := v.Runs - excludedTotal(v.Excluded); v.Runs > 0 && boots > 0 && boots != v.Summary.Runs {
		w = append(w, fmt.Sprintf("%d runs (reproducer iterations) in %d boots", v.Summary.Runs, boots))
	}
	if v.Reused > 0 {
		w = append(w, fmt.Sprintf("%d run(s) reused from earlier sessions", v.Reused))
	}
	if v.Stopped > 0 {
		w = append(w, fmt.Sprintf("%d run(s) stopped early by the comparison once they no longer mattered: "+
			"each counts as crash-free for as long as it ran, no longer (p(crash) comes from the Kaplan–Meier curve)", v.Stopped))
	}
	return w
}

// variantNotes is every note on a variant, as the JSON lists them.
func variantNotes(v Variant) []string {
	w := runNotes(v)
	if v.Hangs > 0 {
		w = append(w, hangNote)
	}
	return append(w, v.Summary.Warnings...)
}

// printable makes console text safe to show: carriage returns go, other control characters
// (NUL, escape sequences) become U+FFFD; tabs and newlines stay.
func printable(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return -1
		case r < 0x20 || r == 0x7f:
			return '\uFFFD'
		}
		return r
	}, s)
}

// pctNum formats a probability as a percentage number without the sign: 2 significant
// digits or so, never an exponent.
func pctNum(p float64) string {
	switch x := p * 100; {
	case math.IsNaN(x):
		return "?"
	case x == 0 || x >= 99.95:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.0f", x)
	case x >= 1:
		return fmt.Sprintf("%.1f", x)
	case x >= 0.01:
		return fmt.Sprintf("%.2f", x)
	default:
		return "<0.01"
	}
}

// pctInterval formats "30% [18, 45]".
func pctInterval(iv stats.Interval) string {
	return fmt.Sprintf("%s%% [%s, %s]", pctNum(iv.Estimate), pctNum(iv.Lower), pctNum(iv.Upper))
}

// num formats a positive number with two significant digits and no exponent: 0.26, 3.2, 24, 150.
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "?"
	case math.IsInf(x, 1):
		return "∞"
	case x == 0:
		return "0"
	}
	g := strconv.FormatFloat(x, 'g', 2, 64)
	if strings.ContainsRune(g, 'e') {
		f, _ := strconv.ParseFloat(g, 64)
		g = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return g
}

// dur formats seconds as a short duration: "850ms", "14.2s", "2m", "11m28s", "1h35m"; "∞" for +Inf.
func dur(s float64) string {
	switch {
	case math.IsInf(s, 1):
		return "∞"
	case math.IsNaN(s) || s < 0:
		return "?"
	case s < 59.5:
		return stats.FormatSeconds(s)
	case s < 3599.5:
		r := int64(math.Round(s))
		return trimZero(fmt.Sprintf("%dm%ds", r/60, r%60), "m0s")
	}
	r := int64(math.Round(s / 60))
	return trimZero(fmt.Sprintf("%dh%dm", r/60, r%60), "h0m")
}

// trimZero drops a zero last unit: "2m0s" → "2m".
func trimZero(s, suffix string) string {
	if strings.HasSuffix(s, suffix) {
		return s[:len(s)-len(suffix)+1]
	}
	return s
}

// mttc formats the mean time to crash with its interval, or its lower bound when nothing crashed.
func mttc(r stats.Rate) string {
	switch {
	case math.IsNaN(r.MTTC.Estimate):
		return "-"
	case r.Crashes == 0:
		return "≥ " + dur(r.MTTC.Lower)
	}
	return fmt.Sprintf("%s [%s, %s]", dur(r.MTTC.Estimate), dur(r.MTTC.Lower), dur(r.MTTC.Upper))
}

// ratioText formats the comparison cell: "×3.2 [1.4, 7.9]", or "~ (p=0.52)" when the
// difference is not significant.
func ratioText(vs *versus) string {
	r := vs.Ratio
	switch {
	case r.CrashesA+r.CrashesB == 0:
		return "~ (no crashes)"
	case !vs.Significant:
		return fmt.Sprintf("~ (p=%s)", num(r.P))
	}
	return fmt.Sprintf("×%s [%s, %s]", num(r.Ratio.Estimate), num(r.Ratio.Lower), num(r.Ratio.Upper))
}

// median returns the median of xs (NaN if empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
