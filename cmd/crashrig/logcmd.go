package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/store"
)

func newLogCmd(stdout io.Writer) *cobra.Command {
	var dbPath string
	c := &cobra.Command{
		Use:   "log RUN-ID",
		Short: "print the console log of a recorded run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErr("run id %q: want the number crashrig printed (crashrig report lists them)", args[0])
			}
			db, err := openExisting(dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			log, err := db.Log(id)
			if errors.Is(err, store.ErrNotFound) {
				// The store says whether the run is unknown or only has no log (interrupted).
				return usageErr("%s (database %s)", strings.TrimSuffix(err.Error(), ": "+store.ErrNotFound.Error()), db.Path())
			}
			if err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			_, err = stdout.Write(log)
			if err == nil && len(log) > 0 && log[len(log)-1] != '\n' {
				fmt.Fprintln(stdout)
			}
			return err
		},
	}
	c.Flags().StringVar(&dbPath, "db", "", "results database (default $XDG_STATE_HOME/crashrig/crashrig.db)")
	return c
}
