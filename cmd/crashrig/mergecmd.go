package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/store"
)

func newMergeCmd(stdout, stderr io.Writer) *cobra.Command {
	var dbPath string
	c := &cobra.Command{
		Use:   "merge SHARD.db... --db ALL.db",
		Short: "join shard databases (crashrig batch --shard) into one",
		Long: `Copy into --db the sessions, runs, iterations and console logs of each SHARD.db
that it does not hold yet. Rows are matched by their uids, so merging a shard
twice adds nothing the second time. A shard still being written, and a shard
whose batch ran another plan than the batches of the same plan name and tag
already in --db, are refused with the reason; a refused shard changes nothing.

Exit status: 0 merged, 2 bad input (a missing shard, conflicting plans),
5 a database could not be read or written.`,
		Example: `  crashrig merge shard-*.db --db all.db
  crashrig report --db all.db --html morning.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if dbPath == "" {
				return usageErr("give the database to merge into: --db ALL.db")
			}
			for _, a := range args {
				if err := checkSQLite(a); err != nil {
					return err
				}
			}
			_, statErr := os.Stat(dbPath)
			fresh := errors.Is(statErr, fs.ErrNotExist)
			db, err := store.Open(dbPath)
			if err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			defer db.Close()
			defer func() {
				if fresh && err != nil {
					// Nothing was merged into a database this command created: leave none.
					db.Close()
					for _, f := range []string{"", "-wal", "-shm", "-owners"} {
						os.RemoveAll(db.Path() + f)
					}
				}
			}()
			var total store.MergeStats
			for _, a := range args {
				var st store.MergeStats
				st, err = db.Merge(a)
				if errors.Is(err, store.ErrMergeConflict) {
					return &exitError{code: exitUsage, err: err}
				}
				if err != nil {
					return &exitError{code: exitInfra, err: err}
				}
				fmt.Fprintf(stderr, "crashrig: %s: %d sessions and %d runs added, %d runs already there\n", a, st.Sessions, st.Runs, st.Seen)
				total.Sessions += st.Sessions
				total.Runs += st.Runs
				total.Seen += st.Seen
			}
			fmt.Fprintf(stdout, "merged %d databases into %s: %d sessions and %d runs added, %d runs already there\n",
				len(args), db.Path(), total.Sessions, total.Runs, total.Seen)
			return nil
		},
	}
	c.Flags().StringVar(&dbPath, "db", "", "the database to merge into (created if missing)")
	return c
}

// checkSQLite refuses a shard that is missing or not an SQLite database,
// without touching it.
func checkSQLite(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return usageErr("shard database %s does not exist", path)
	}
	if err != nil {
		return usageErr("shard database %s: %v", path, err)
	}
	defer f.Close()
	head := make([]byte, 16)
	if n, _ := io.ReadFull(f, head); n < 16 || string(head) != "SQLite format 3\x00" {
		return usageErr("%s is not a crashrig database (not SQLite)", path)
	}
	return nil
}
