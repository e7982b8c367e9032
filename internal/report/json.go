package report

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/crashrig/crashrig/internal/stats"
)

// The JSON form. Field names are stable and snake_case; times are seconds ("_s"); a number
// that is infinite or undefined (an MTTC with no crash, a ratio with nothing to compare) is
// null.

type jsonReport struct {
	Title     string        `json:"title"`
	Session   int64         `json:"session,omitempty"`
	Generated *time.Time    `json:"generated,omitempty"`
	Conf      jnum          `json:"conf"`
	Decision  *jsonDecision `json:"decision,omitempty"`
	Warnings  []string      `json:"warnings"`
	Variants  []jsonVariant `json:"variants"`
	Campaign  *Campaign     `json:"campaign,omitempty"`
}

type jsonDecision struct {
	Text        string             `json:"text"`
	Confidence  string             `json:"confidence,omitempty"`
	Ratio       string             `json:"ratio,omitempty"`
	Comparisons []jsonDecisionItem `json:"comparisons,omitempty"`
}

type jsonDecisionItem struct {
	A         string         `json:"a"`
	B         string         `json:"b"`
	Outcome   string         `json:"outcome"`
	Method    string         `json:"method"`
	Effect    string         `json:"effect"`
	Ratio     jsonInterval   `json:"ratio"`
	EMoreA    jnum           `json:"e_a_more,omitempty"`
	EMoreB    jnum           `json:"e_b_more,omitempty"`
	Threshold jnum           `json:"e_threshold,omitempty"`
	P         jnum           `json:"p"`
	TimeRatio jnum           `json:"time_ratio"`
	Runs      [2]int         `json:"runs"`
	Crashes   [2]int         `json:"crashes"`
	Stopped   [2]int         `json:"stopped"`
	VMSeconds [2]jnum        `json:"vm_s"`
	PCrash    []jsonInterval `json:"p_crash"`
	MedianTTC [2]jnum        `json:"median_time_to_crash_s"`
	Budget    string         `json:"budget,omitempty"`
}

type jsonInterval struct {
	Estimate jnum `json:"estimate"`
	Lower    jnum `json:"lower"`
	Upper    jnum `json:"upper"`
}

type jsonVariant struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Boots       int            `json:"boots"`
	Excluded    map[string]int `json:"excluded"`
	Reused      int            `json:"reused"`
	Runs        int            `json:"runs"`
	Crashes     int            `json:"crashes"`
	Hangs       int            `json:"hangs_counted_as_crashes"`
	Exposure    jnum           `json:"exposure_s"`
	Limit       jnum           `json:"limit_s"`
	PCrash      jsonInterval   `json:"p_crash"`
	RatePerHour jsonInterval   `json:"rate_per_hour"`
	MTTC        jsonInterval   `json:"mttc_s"`
	Hazard      jsonHazard     `json:"hazard"`
	Versus      *jsonVersus    `json:"versus,omitempty"`
	Titles      []jsonTitle    `json:"titles"`
	Survival    []jsonPoint    `json:"survival"`
	CrashRuns   []jsonExcerpt  `json:"crashed_runs"`
	Warnings    []string       `json:"warnings"`
}

type jsonHazard struct {
	Trend string `json:"trend"`
	Shape jnum   `json:"weibull_shape"`
	P     jnum   `json:"p"`
}

type jsonVersus struct {
	Baseline    string       `json:"baseline"`
	RateRatio   jsonInterval `json:"rate_ratio"`
	P           jnum         `json:"p"`
	Significant bool         `json:"significant"`
	Warnings    []string     `json:"warnings"`
}

type jsonTitle struct {
	Title   string       `json:"title"`
	Crashes int          `json:"crashes"`
	P       jsonInterval `json:"p"`
}

type jsonPoint struct {
	Time     jnum `json:"time_s"`
	AtRisk   int  `json:"at_risk"`
	Crashes  int  `json:"crashes"`
	Censored int  `json:"censored"`
	Survival jnum `json:"survival"`
	Lower    jnum `json:"lower"`
	Upper    jnum `json:"upper"`
}

type jsonExcerpt struct {
	RunID       int64  `json:"run_id"`
	Title       string `json:"title"`
	TimeToCrash jnum   `json:"time_to_crash_s"`
	Text        string `json:"text"`
}

// A jnum is a number that is null in JSON when it is infinite or undefined.
type jnum float64

func (x jnum) MarshalJSON() ([]byte, error) {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	// Eight significant digits: more than any of these numbers means, and stable when the
	// statistics' last bits move.
	return []byte(strconv.FormatFloat(f, 'g', 8, 64)), nil
}

func jInterval(iv stats.Interval) jsonInterval {
	return jsonInterval{jnum(iv.Estimate), jnum(iv.Lower), jnum(iv.Upper)}
}

func perHour(iv stats.Interval) stats.Interval {
	return stats.Interval{Estimate: stats.PerHour(iv.Estimate), Lower: stats.PerHour(iv.Lower),
		Upper: stats.PerHour(iv.Upper), Conf: iv.Conf}
}

// JSON writes the report as one indented JSON object: every number the other formats show,
// with the whole survival curve and every crashed run's console excerpt.
func (m *Model) JSON(w io.Writer) error {
	r := jsonReport{Title: m.Title, Session: m.Session, Conf: jnum(m.conf()), Warnings: nonNil(m.Warnings), Variants: []jsonVariant{},
		Campaign: m.Campaign}
	if r.Title == "" {
		r.Title = "crashrig report"
	}
	if !m.Generated.IsZero() {
		g := m.Generated.UTC()
		r.Generated = &g
	}
	if d := m.Decision; d != nil {
		r.Decision = &jsonDecision{Text: d.Text, Confidence: d.Confidence, Ratio: d.RatioText}
		for _, it := range d.Items {
			r.Decision.Comparisons = append(r.Decision.Comparisons, jsonDecisionItem{
				A: it.A, B: it.B, Outcome: it.Outcome, Method: it.Method, Effect: it.Effect, Ratio: jInterval(it.Ratio),
				EMoreA: jnum(it.EMoreA), EMoreB: jnum(it.EMoreB), Threshold: jnum(it.Threshold), P: jnum(it.P),
				TimeRatio: jnum(it.TimeRatio), Runs: it.Runs, Crashes: it.Crashes, Stopped: it.Stopped,
				VMSeconds: [2]jnum{jnum(it.VMSeconds[0]), jnum(it.VMSeconds[1])},
				PCrash:    []jsonInterval{jInterval(it.PCrash[0]), jInterval(it.PCrash[1])},
				MedianTTC: [2]jnum{jnum(it.MedianTTC[0]), jnum(it.MedianTTC[1])}, Budget: it.Budget,
			})
		}
	}
	for i, x := range m.Variants {
		s := x.Summary
		jv := jsonVariant{Name: x.Name, Description: x.Description, Boots: x.Runs, Excluded: map[string]int{},
			Reused: x.Reused, Runs: s.Runs, Crashes: s.Crashes, Hangs: x.Hangs, Exposure: jnum(s.Exposure), Limit: jnum(s.Limit),
			PCrash: jInterval(s.PCrash), RatePerHour: jInterval(perHour(s.Rate.Rate)), MTTC: jInterval(s.Rate.MTTC),
			Hazard: jsonHazard{Trend: s.Hazard.Trend.String(), Shape: jnum(s.Hazard.Shape), P: jnum(s.Hazard.P)},
			Titles: []jsonTitle{}, Survival: []jsonPoint{}, CrashRuns: []jsonExcerpt{},
			Warnings: nonNil(variantNotes(x))}
		for k, n := range x.Excluded {
			jv.Excluded[k] = n
		}
		if vs := m.compare(i); vs != nil {
			jv.Versus = &jsonVersus{Baseline: vs.Baseline, RateRatio: jInterval(vs.Ratio.Ratio), P: jnum(vs.Ratio.P),
				Significant: vs.Significant, Warnings: nonNil(vs.Ratio.Warnings)}
		}
		for _, t := range s.Titles {
			jv.Titles = append(jv.Titles, jsonTitle{t.Title, t.Crashes, jInterval(t.P)})
		}
		for _, p := range s.Survival.Points {
			jv.Survival = append(jv.Survival, jsonPoint{jnum(p.Time), p.AtRisk, p.Crashes, p.Censored, jnum(p.Survival), jnum(p.Lower), jnum(p.Upper)})
		}
		for _, e := range x.Crashes {
			jv.CrashRuns = append(jv.CrashRuns, jsonExcerpt{e.RunID, e.Title, jnum(e.TimeToCrash), e.Text})
		}
		r.Variants = append(r.Variants, jv)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
