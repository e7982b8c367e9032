package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
)

// FromComparison builds the model of a comparison session: the session's runs
// (FromSession) under the decisions of the comparison (ComparisonDecision), with
// how many runs came from an earlier unfinished run of it (resumed) and, per
// variant in the decisions' order, from earlier sessions (reused).
func FromComparison(db *store.DB, session int64, ds []sequential.Decision, conf string, resumed int, reused []int, now time.Time) (*Model, error) {
	s, err := db.Session(session)
	if err != nil {
		return nil, err
	}
	m, err := FromSession(db, s, now)
	if err != nil {
		return nil, err
	}
	m.Decision = ComparisonDecision(ds, conf, session)
	if resumed > 0 {
		m.Warnings = append(m.Warnings, fmt.Sprintf("continued: %d runs came from an earlier, unfinished run of the same comparison", resumed))
	}
	names := variantNames(ds)
	for i, n := range reused {
		for j := range m.Variants {
			if i < len(names) && m.Variants[j].Name == names[i] {
				m.Variants[j].Reused = n
			}
		}
	}
	return m, nil
}

// variantNames lists the variants of decisions that each compare the first
// variant with another: the first, then each other in order.
func variantNames(ds []sequential.Decision) []string {
	var names []string
	for i, d := range ds {
		if i == 0 {
			names = append(names, d.A)
		}
		names = append(names, d.B)
	}
	return names
}

// ComparisonDecision is the Decision a comparison shows above its tables: each
// decision's headline and effect line, and its numbers for machine output. conf
// states the error rates it was run at; session is the store session the same
// command continues when a budget ended a comparison before its test did.
func ComparisonDecision(ds []sequential.Decision, conf string, session int64) *Decision {
	var texts, ratios []string
	var items []DecisionItem
	for _, d := range ds {
		texts = append(texts, d.Headline())
		ratios = append(ratios, RatioText(d))
		it := DecisionItemOf(d)
		if d.Outcome == sequential.Undecided {
			it.Budget = fmt.Sprintf("the budget ran out before the test decided; the same command with a larger --max-runs or --budget continues session %d", session)
		}
		items = append(items, it)
	}
	return &Decision{Text: strings.Join(texts, "; "), RatioText: strings.Join(ratios, "; "), Items: items, Confidence: conf}
}

// RatioText is the effect line of a decision, e.g. "new/old hazard ratio 7.5 [2.9, ∞] at
// 95%, e-value 126 (decides at 40), 96 VM-s".
func RatioText(d sequential.Decision) string {
	r := d.Ratio
	s := fmt.Sprintf("%s/%s %s %s at %.0f%%", d.A, d.B, d.Effect(), r.Format(3), 100*r.Conf)
	if math.IsNaN(r.Estimate) {
		s = fmt.Sprintf("%s/%s %s unknown (no crash with both at risk)", d.A, d.B, d.Effect())
	}
	if e := d.Evidence; e != nil {
		s += fmt.Sprintf(", e-values %.3g / %.3g (decides at %.3g)", e.MoreA, e.MoreB, e.Threshold)
	}
	return s + fmt.Sprintf(", %.0f VM-s", d.VMTime)
}

// DecisionItemOf turns a decision into its machine-readable form.
func DecisionItemOf(d sequential.Decision) DecisionItem {
	it := DecisionItem{A: d.A, B: d.B, Outcome: d.Outcome.Word(), Method: d.Method.String(), Effect: d.Effect(),
		Ratio: d.Ratio, P: math.NaN(), TimeRatio: math.NaN(), Runs: d.Runs, Crashes: d.Crashes, Stopped: d.Stopped,
		VMSeconds: d.VMTimes, PCrash: d.PCrash, MedianTTC: d.Median}
	if e := d.Evidence; e != nil {
		it.EMoreA, it.EMoreB, it.Threshold, it.P, it.TimeRatio = e.MoreA, e.MoreB, e.Threshold, e.P, e.TimeRatio.Estimate
	} else if d.Fisher != nil {
		it.P = d.Fisher.TwoSided
	}
	return it
}
