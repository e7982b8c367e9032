package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// The listings of crashrig sessions and crashrig runs: one row per session or
// run, as an aligned table or as JSON.

// A SessionRow is one line of crashrig sessions.
type SessionRow struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	Label       string    `json:"label"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	Interrupted bool      `json:"interrupted"`
	Variants    []string  `json:"variants"`
	Runs        int       `json:"runs"`
	Crashes     int       `json:"crashes"`
	Decision    string    `json:"decision"`
}

// SessionRowOf sums up a session from its runs: the variants in the order they
// first ran, and the finished runs and crashes.
func SessionRowOf(s store.Session, recs []store.RunRecord) SessionRow {
	r := SessionRow{ID: s.ID, Kind: s.Kind, Label: s.Label, Started: s.Started, Ended: s.Ended, Interrupted: s.Interrupted,
		Variants: []string{}, Decision: s.Meta["decided"]}
	if s.Kind == "batch" {
		r.Decision = s.Meta["state"]
	}
	seen := map[string]bool{}
	for _, x := range recs {
		name := configName(x.Config)
		if !seen[name] {
			seen[name] = true
			r.Variants = append(r.Variants, name)
		}
		if x.Status == "done" {
			r.Runs++
			if x.Verdict == verdict.Crash {
				r.Crashes++
			}
		}
	}
	return r
}

// state is how a session stands: running, ended or interrupted.
func (r SessionRow) state() string {
	switch {
	case r.Interrupted:
		return "interrupted"
	case r.Ended.IsZero():
		return "running"
	}
	return "ended"
}

// SessionsText prints the sessions as a table, one a line.
func SessionsText(w io.Writer, rows []SessionRow) {
	fmt.Fprintf(w, "%6s  %-7s  %-16s  %-10s  %5s  %7s  %s\n", "id", "kind", "started", "state", "runs", "crashes", "variants · decision")
	for _, r := range rows {
		what := strings.Join(r.Variants, ", ")
		if r.Label != "" && r.Kind == "batch" {
			what = "plan " + r.Label + ": " + what
		}
		if r.Decision != "" {
			what += " · " + r.Decision
		}
		fmt.Fprintf(w, "%6d  %-7s  %-16s  %-10s  %5d  %7d  %s\n", r.ID, r.Kind, r.Started.Local().Format("2006-01-02 15:04"),
			r.state(), r.Runs, r.Crashes, cutText(what, 90))
	}
}

// A RunRow is one line of crashrig runs.
type RunRow struct {
	ID      int64     `json:"id"`
	Session int64     `json:"session"`
	Variant string    `json:"variant"`
	Status  string    `json:"status"`
	Verdict string    `json:"verdict"`
	Started time.Time `json:"started"`
	Wall    float64   `json:"wall_s"`
	TTC     float64   `json:"time_to_crash_s"`
	Title   string    `json:"title"`
}

// RunRows lists a session's runs, newest first.
func RunRows(recs []store.RunRecord) []RunRow {
	rows := []RunRow{}
	for i := len(recs) - 1; i >= 0; i-- {
		x := recs[i]
		rows = append(rows, RunRow{ID: x.ID, Session: x.SessionID, Variant: configName(x.Config), Status: x.Status,
			Verdict: string(x.Verdict), Started: x.Start, Wall: x.Wall, TTC: x.TimeToCrash, Title: x.Title})
	}
	return rows
}

// RunsText prints a session's runs as a table under a line naming the session.
func RunsText(w io.Writer, s *store.Session, rows []RunRow) {
	fmt.Fprintf(w, "session %d (%s", s.ID, s.Kind)
	if s.Label != "" {
		fmt.Fprintf(w, " %s", s.Label)
	}
	fmt.Fprintf(w, "), %d runs\n%6s  %-28s  %-11s  %-19s  %7s  %s\n", len(rows), "id", "variant", "verdict", "started", "wall", "title")
	for _, r := range rows {
		v := r.Verdict
		if v == "" {
			v = r.Status
		}
		title := r.Title
		if r.Verdict == string(verdict.Crash) {
			title = fmt.Sprintf("%s (after %.1fs; crashrig log %d)", r.Title, r.TTC, r.ID)
		}
		fmt.Fprintf(w, "%6d  %-28s  %-11s  %-19s  %6.1fs  %s\n", r.ID, cutText(r.Variant, 28), v,
			r.Started.Local().Format("2006-01-02 15:04:05"), r.Wall, title)
	}
}

// ListJSON writes a listing as indented JSON ([] when empty).
func ListJSON[T any](w io.Writer, rows []T) error {
	if rows == nil {
		rows = []T{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// configName is a run's variant, or its kernel's name when it has none.
func configName(c record.Config) string {
	if c.Variant != "" {
		return c.Variant
	}
	return kernelName(c)
}

func cutText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
