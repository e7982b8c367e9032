package main

import (
	"io"
	"strconv"

	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/store"
	"github.com/spf13/cobra"
)

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
			var rows []report.SessionRow
			for _, s := range ss {
				recs, err := db.Runs(store.Query{SessionID: s.ID})
				if err != nil {
					return &exitError{code: exitInfra, err: err}
				}
				rows = append(rows, report.SessionRowOf(s, recs))
			}
			if jsonOut {
				return report.ListJSON(stdout, rows)
			}
			report.SessionsText(stdout, rows)
			return nil
		},
	}
	c.Flags().StringVar(&dbPath, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	c.Flags().IntVarP(&limit, "limit", "n", 0, "only the newest N sessions (0 = all)")
	return c
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
			rows := report.RunRows(recs)
			if jsonOut {
				return report.ListJSON(stdout, rows)
			}
			report.RunsText(stdout, s, rows)
			return nil
		},
	}
	c.Flags().StringVar(&dbPath, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	return c
}
