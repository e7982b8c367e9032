package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A sessionRow is one line of crashrig sessions.
type sessionRow struct {
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

func newSessionsCmd(stdout io.Writer) *cobra.Command {
	var dbPath string
	var jsonOut bool
	var limit int
	c := &cobra.Command{
		Use:   "sessions",
		Short: "list what the database holds: id, kind, when, variants, runs, crashes, decision (newest first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usageErr("-n %d: want 0 (all) or more", limit)
			}
			db, err := openExisting(dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			ss, err := db.Sessions(limit)
			if err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			var rows []sessionRow
			for _, s := range ss {
				recs, err := db.Runs(store.Query{SessionID: s.ID})
				if err != nil {
					return &exitError{code: exitInfra, err: err}
				}
				rows = append(rows, sessionRowOf(s, recs))
			}
			if jsonOut {
				return writeJSON(stdout, nonNilRows(rows))
			}
			fmt.Fprintf(stdout, "%6s  %-7s  %-16s  %-10s  %5s  %7s  %s\n", "id", "kind", "started", "state", "runs", "crashes", "variants · decision")
			for _, r := range rows {
				what := strings.Join(r.Variants, ", ")
				if r.Label != "" && r.Kind == "batch" {
					what = "plan " + r.Label + ": " + what
				}
				if r.Decision != "" {
					what += " · " + r.Decision
				}
				fmt.Fprintf(stdout, "%6d  %-7s  %-16s  %-10s  %5d  %7d  %s\n", r.ID, r.Kind, r.Started.Local().Format("2006-01-02 15:04"),
					sessionState(r), r.Runs, r.Crashes, cutText(what, 90))
			}
			return nil
		},
	}
	c.Flags().StringVar(&dbPath, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	c.Flags().IntVarP(&limit, "limit", "n", 0, "only the newest N sessions (0 = all)")
	return c
}

func nonNilRows[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sessionState(r sessionRow) string {
	switch {
	case r.Interrupted:
		return "interrupted"
	case r.Ended.IsZero():
		return "running"
	}
	return "ended"
}

func cutText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func sessionRowOf(s store.Session, recs []store.RunRecord) sessionRow {
	r := sessionRow{ID: s.ID, Kind: s.Kind, Label: s.Label, Started: s.Started, Ended: s.Ended, Interrupted: s.Interrupted,
		Variants: []string{}, Decision: s.Meta["decided"]}
	if s.Kind == "batch" {
		r.Decision = s.Meta["state"]
	}
	seen := map[string]bool{}
	for _, x := range recs {
		name := x.Config.Variant
		if name == "" {
			name = configName(x.Config)
		}
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

// A runRow is one line of crashrig runs.
type runRow struct {
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

func newRunsCmd(stdout io.Writer) *cobra.Command {
	var dbPath string
	var jsonOut bool
	c := &cobra.Command{
		Use:   "runs [SESSION]",
		Short: "list the runs of a session (the latest by default): id, variant, verdict, time, title (newest first)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if _, err := strconv.ParseInt(args[0], 10, 64); err != nil {
					return usageErr("session %q: want a number (crashrig sessions lists them)", args[0])
				}
			}
			db, err := openExisting(dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			s, err := pickSession(db, args)
			if err != nil {
				return err
			}
			recs, err := db.Runs(store.Query{SessionID: s.ID})
			if err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			rows := []runRow{}
			for i := len(recs) - 1; i >= 0; i-- {
				x := recs[i]
				name := x.Config.Variant
				if name == "" {
					name = configName(x.Config)
				}
				rows = append(rows, runRow{ID: x.ID, Session: x.SessionID, Variant: name, Status: x.Status, Verdict: string(x.Verdict),
					Started: x.Start, Wall: x.Wall, TTC: x.TimeToCrash, Title: x.Title})
			}
			if jsonOut {
				return writeJSON(stdout, rows)
			}
			fmt.Fprintf(stdout, "session %d (%s", s.ID, s.Kind)
			if s.Label != "" {
				fmt.Fprintf(stdout, " %s", s.Label)
			}
			fmt.Fprintf(stdout, "), %d runs\n%6s  %-28s  %-11s  %-19s  %7s  %s\n", len(rows), "id", "variant", "verdict", "started", "wall", "title")
			for _, r := range rows {
				v := r.Verdict
				if v == "" {
					v = r.Status
				}
				title := r.Title
				if r.Verdict == string(verdict.Crash) {
					title = fmt.Sprintf("%s (after %.1fs; crashrig log %d)", r.Title, r.TTC, r.ID)
				}
				fmt.Fprintf(stdout, "%6d  %-28s  %-11s  %-19s  %6.1fs  %s\n", r.ID, cutText(r.Variant, 28), v,
					r.Started.Local().Format("2006-01-02 15:04:05"), r.Wall, title)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dbPath, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	return c
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// configName names an unnamed configuration by its kernel.
func configName(c record.Config) string {
	if c.KernelLabel != "" {
		return c.KernelLabel
	}
	if v, _, _ := strings.Cut(c.KernelVersion, " "); v != "" {
		return v
	}
	return filepath.Base(c.KernelPath)
}
