package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/crashrig/crashrig/internal/report"
	"github.com/crashrig/crashrig/internal/store"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printSummary reports a finished session.
func printSummary(w io.Writer, db *store.DB, session int64, jsonOut bool) error {
	s, err := db.Session(session)
	if err != nil {
		return err
	}
	m, err := report.FromSession(db, s, time.Now())
	if err != nil {
		return err
	}
	if jsonOut {
		return m.JSON(w)
	}
	if err := m.Text(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n(crashrig report %d --html FILE for plots; crashrig log RUN-ID for a console)\n", session)
	return nil
}
