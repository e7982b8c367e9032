package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

// RunText shows one run on one screen: verdict, title, timings, what was
// booted and where its log is; verbose adds the qemu command and the crash
// report. runID (0 = not recorded) names the run for crashrig log.
func RunText(w io.Writer, runID int64, r *record.Run, verbose bool) {
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%-14s %s\n", k, fmt.Sprintf(format, a...)) }
	row("verdict", "%s", r.Verdict)
	if r.Title != "" {
		row("title", "%s", r.Title)
	}
	if r.Kind != "" {
		row("kind", "%s", r.Kind)
	}
	if len(r.Signals) > 0 {
		row("seen by", "%s", strings.Join(r.Signals, ", "))
	}
	if r.Corrupted {
		row("corrupted", "yes: the report was damaged, the title may be wrong")
	}
	if r.Verdict == verdict.Crash {
		row("time to crash", "%.3fs (guest clock from reproducer start; host %.3fs)", r.TimeToCrash, r.HostTTC)
	}
	if r.Reason != "" {
		row("why", "%s", r.Reason)
	}
	if r.Hint != "" {
		row("hint", "%s", r.Hint)
	}
	if len(r.Iterations) > 1 {
		n := map[verdict.Verdict]int{}
		for _, it := range r.Iterations {
			n[it.Verdict]++
		}
		row("iterations", "%d: %d pass, %d crash, %d other", len(r.Iterations), n[verdict.Pass], n[verdict.Crash],
			len(r.Iterations)-n[verdict.Pass]-n[verdict.Crash])
	}
	switch {
	case strings.HasPrefix(r.Snapshot, "restored"):
		// The guest's uptime is the saved boot's: only the host's figure is this run's.
		row("start", "%.2fs to /init, %s", r.BootHost, r.Snapshot)
	case r.BootHost > 0:
		row("boot", "%.2fs to /init (guest uptime %.2fs)", r.BootHost, r.BootGuest)
	}
	if strings.HasPrefix(r.Snapshot, "booted") {
		row("snapshot", "%s", r.Snapshot)
	}
	row("wall", "%.2fs", r.Wall)
	accel := r.Accel
	if r.AccelNote != "" {
		accel += " — " + r.AccelNote
	}
	row("accel", "%s", accel)
	row("kernel", "%s (%s, sha256 %.12s)", r.Kernel.Path, r.Kernel.Release, r.Kernel.SHA256)
	if r.Kernel.Description != "" {
		row("", "%s: %s", r.Kernel.Label, r.Kernel.Description)
	}
	row("reproducer", "%s", strings.TrimSpace(r.Reproducer+" "+strings.Join(r.ReproArgs, " ")))
	for _, in := range r.Info {
		row("  "+in.Key, "%s", in.Value)
	}
	if len(r.Secondary) > 0 {
		row("also", "%s", strings.Join(r.Secondary, "; "))
	}
	row("log", "%s", r.Log)
	if verbose {
		row("qemu", "%s", r.QemuShell)
		if r.Text != "" {
			fmt.Fprintf(w, "\n%s", r.Text)
		}
	}
	if runID > 0 {
		row("run", "%d (crashrig log %d)", runID, runID)
	}
}

// RunJSON writes one run's whole record with its store id (0 = not recorded).
func RunJSON(w io.Writer, runID int64, r *record.Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		RunID int64 `json:"run_id"`
		*record.Run
	}{runID, r})
}
