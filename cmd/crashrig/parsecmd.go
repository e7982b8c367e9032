package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/console"
	"github.com/crashrig/crashrig/internal/verdict"
)

// parseRecord is one line of `crashrig parse --json`.
type parseRecord struct {
	File           string   `json:"file"`
	Crashed        bool     `json:"crashed"`
	Kind           string   `json:"kind"`
	Title          string   `json:"title"`
	Family         string   `json:"family,omitempty"`
	AltTitles      []string `json:"alt_titles,omitempty"`
	Corrupted      bool     `json:"corrupted"`
	CorruptReason  string   `json:"corrupted_reason,omitempty"`
	KernelTime     *float64 `json:"kernel_time_s,omitempty"`
	Start          int64    `json:"start"`
	End            int64    `json:"end"`
	Secondary      []string `json:"secondary,omitempty"`
	Markers        int      `json:"markers"`
	CorruptMarkers int      `json:"corrupt_markers,omitempty"`
	Report         string   `json:"report,omitempty"`
	// Verdict and Reason: for a console log crashrig recorded (it has guest markers),
	// the run's verdict decided from the log alone, as the live run decided it.
	Verdict string `json:"verdict,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

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
				rec := toRecord(name, console.Parse(data), verbose || jsonOut)
				if out, ok := verdict.FromLog(data); ok {
					rec.Verdict, rec.Reason = string(out.Verdict), out.Reason
					if out.Verdict == verdict.Crash || out.Verdict == verdict.Hang {
						rec.Crashed, rec.Kind, rec.Title, rec.Family = true, out.Kind, out.Title, out.Family
					}
				}
				if jsonOut {
					b, _ := json.Marshal(rec)
					fmt.Fprintf(stdout, "%s\n", b)
					continue
				}
				printParse(stdout, rec, verbose)
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

func toRecord(name string, r *console.Result, withText bool) parseRecord {
	rec := parseRecord{File: name, Crashed: r.Crashed, Markers: len(r.Markers), CorruptMarkers: r.CorruptMarkers}
	if len(r.Reports) == 0 {
		return rec
	}
	p := r.Reports[0]
	rec.Kind, rec.Title, rec.Family, rec.AltTitles = string(p.Kind), p.Title, p.Family, p.AltTitles
	rec.Corrupted, rec.CorruptReason, rec.Start, rec.End = p.Corrupted, p.CorruptedReason, p.Start, p.End
	if p.HasKernelTime {
		t := p.KernelTime
		rec.KernelTime = &t
	}
	for _, s := range r.Reports[1:] {
		rec.Secondary = append(rec.Secondary, s.Title)
	}
	if withText {
		rec.Report = p.Text
	}
	return rec
}

func printParse(w io.Writer, rec parseRecord, verbose bool) {
	switch verdict.Verdict(rec.Verdict) {
	case verdict.Hang:
		fmt.Fprintf(w, "%s: hang: %s (%s)\n", rec.File, rec.Title, rec.Reason)
		return
	case verdict.Pass, verdict.Stopped, verdict.BootFail, verdict.InfraFail, verdict.Interrupted:
		fmt.Fprintf(w, "%s: %s: %s (%d guest markers)\n", rec.File, rec.Verdict, rec.Reason, rec.Markers)
		return
	}
	if !rec.Crashed {
		fmt.Fprintf(w, "%s: no crash (%d guest markers)\n", rec.File, rec.Markers)
		return
	}
	c := ""
	if rec.Corrupted {
		c = " [corrupted: " + rec.CorruptReason + "]"
	}
	fmt.Fprintf(w, "%s: %s crash: %s%s\n", rec.File, rec.Kind, rec.Title, c)
	for _, s := range rec.Secondary {
		fmt.Fprintf(w, "  then: %s\n", s)
	}
	if verbose && rec.Report != "" {
		fmt.Fprintf(w, "%s\n", rec.Report)
	}
}
