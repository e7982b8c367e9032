package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/crashrig/crashrig/internal/report"
	"github.com/spf13/cobra"
)

func newParseCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var jsonOut, verbose bool
	c := &cobra.Command{
		Use:   "parse [--json] [-v] FILE...",
		Short: "find and title the crashes in saved console logs (- reads stdin)",
		Long: `Parse console logs offline with the same parser runs use live. A log crashrig
recorded (it carries the guest's markers) gets the run's verdict from the log
alone: a non-zero exit, a hang, a stopped run read as they did live. Exit status 0 when
every file was read, crashed or not; 2 for usage errors and missing or unreadable
files (checked before any is parsed); 5 when reading failed on the host.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range args {
				if name == "-" {
					continue
				}
				if st, err := os.Stat(name); err != nil {
					return readErr(name, err)
				} else if st.IsDir() {
					return usageErr("%s is a directory: give the log files in it", name)
				}
			}
			failed := 0
			for _, name := range args {
				data, err := readInput(name, stdin)
				if err != nil {
					fmt.Fprintf(stderr, "crashrig: %v\n", err)
					failed++
					continue
				}
				rec := report.ParseLog(name, data, verbose || jsonOut)
				if jsonOut {
					b, _ := json.Marshal(rec)
					fmt.Fprintf(stdout, "%s\n", b)
					continue
				}
				rec.Text(stdout, verbose)
			}
			if failed > 0 {
				return &exitError{code: exitInfra, err: fmt.Errorf("%d of %d files could not be read", failed, len(args))}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&jsonOut, "json", false, "one JSON object per file, one per line")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "print the report text")
	return c
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}
