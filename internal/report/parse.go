package report

import (
	"fmt"
	"io"

	"github.com/crashrig/crashrig/internal/console"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A ParsedLog is what crashrig parse found in one console log; its JSON form is
// one line of `crashrig parse --json`.
type ParsedLog struct {
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
	Verdict string   `json:"verdict,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Signals []string `json:"signals,omitempty"` // what saw a kernel crash: console, pvpanic
}

// ParseLog parses one console log read from name: the crashes the console
// parser finds and, for a log crashrig recorded (it carries the guest's markers
// and crashrig's end line), the run's verdict decided from the log alone, as
// the live run decided it. withText keeps the primary report's text.
func ParseLog(name string, data []byte, withText bool) ParsedLog {
	rec := parsed(name, console.Parse(data), withText)
	if out, ok := verdict.FromLog(data); ok {
		rec.Verdict, rec.Reason, rec.Signals = string(out.Verdict), out.Reason, out.Signals
		if out.Verdict == verdict.Crash || out.Verdict == verdict.Hang {
			rec.Crashed, rec.Kind, rec.Title, rec.Family = true, out.Kind, out.Title, out.Family
		}
	}
	return rec
}

func parsed(name string, r *console.Result, withText bool) ParsedLog {
	rec := ParsedLog{File: name, Crashed: r.Crashed, Markers: len(r.Markers), CorruptMarkers: r.CorruptMarkers}
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

// Text prints the log's finding in a line or two; verbose adds the report text.
func (rec ParsedLog) Text(w io.Writer, verbose bool) {
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
