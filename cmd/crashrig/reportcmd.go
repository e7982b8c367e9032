package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/store"
)

func newReportCmd(stdout io.Writer) *cobra.Command {
	var dbPath, format, htmlOut string
	c := &cobra.Command{
		Use:   "report [SESSION]",
		Short: "report a recorded session: crash probability, time to crash, titles (latest session by default)",
		Long: `Report the runs of one session (the latest one unless SESSION is given): crash
probability per run with a Wilson 95% interval, mean time to crash from the
censored exponential estimate with its chi-square interval, the survival curve,
crashes per title, and the console excerpt of each crash. --format md|json|html
changes the output; --html FILE writes the self-contained HTML page to FILE.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			render, err := renderer(format)
			if err != nil {
				return err
			}
			if err := checkOutput("--html", htmlOut); err != nil {
				return err
			}
			db, err := openExisting(dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			sess, err := pickSession(db, args)
			if err != nil {
				return err
			}
			m, err := sessionReport(db, sess)
			if err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			if htmlOut != "" {
				if err := atomicfile.Write(htmlOut, 0o644, m.HTML); err != nil {
					return &exitError{code: exitInfra, err: err}
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "crashrig: wrote %s\n", htmlOut)
				if !cmd.Flags().Changed("format") {
					return nil
				}
			}
			return render(m, stdout)
		},
	}
	c.Flags().StringVar(&dbPath, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	c.Flags().StringVar(&format, "format", "text", "text, md, json, html or junit")
	c.Flags().StringVar(&htmlOut, "html", "", "write the HTML report to this file")
	return c
}

func renderer(format string) (func(*report.Model, io.Writer) error, error) {
	switch format {
	case "text", "":
		return (*report.Model).Text, nil
	case "md", "markdown":
		return (*report.Model).Markdown, nil
	case "json":
		return (*report.Model).JSON, nil
	case "html":
		return (*report.Model).HTML, nil
	case "junit":
		return (*report.Model).JUnit, nil
	}
	return nil, usageErr("--format %q: want text, md, json, html or junit", format)
}

func pickSession(db *store.DB, args []string) (*store.Session, error) {
	if len(args) == 0 {
		s, err := db.LatestSession("")
		if errors.Is(err, store.ErrNotFound) {
			return nil, usageErr("no sessions in %s yet: crashrig run records one", db.Path())
		}
		if err != nil {
			return nil, &exitError{code: exitInfra, err: err}
		}
		return s, nil
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return nil, usageErr("session %q: want a number", args[0])
	}
	s, err := db.Session(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, usageErr("no session %d in %s", id, db.Path())
	}
	if err != nil {
		return nil, &exitError{code: exitInfra, err: err}
	}
	return s, nil
}

// sessionReport is the report of any session: a batch's morning report, or
// the runs of a run or compare session.
func sessionReport(db *store.DB, s *store.Session) (*report.Model, error) {
	if s.Kind == "batch" {
		return report.FromBatch(db, s)
	}
	return report.FromSession(db, s, time.Now())
}
