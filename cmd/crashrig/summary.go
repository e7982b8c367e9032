package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/crashrig/crashrig/internal/store"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printSummary reports a finished session.
func printSummary(w io.Writer, db *store.DB, session int64, jsonOut bool) error {
	recs, err := db.Runs(store.Query{SessionID: session})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "session %d: %d runs\n", session, len(recs))
	return nil
}
