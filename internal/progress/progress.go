// Package progress shows a batch of runs while it goes: on a terminal, bars
// (github.com/vbauerster/mpb/v8) for runs done, crashes and an ETA, and one
// line per VM slot with its elapsed time; elsewhere one plain line per
// finished run, so logs and CI output stay readable.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A Display implements batch.Progress.
type Display struct {
	w        io.Writer // where lines go (the bars' container on a terminal)
	total    int       // runs planned (0 = unknown)
	names    []string  // variant names ("" for a single one)
	done     int
	crashes  atomic.Int64
	p        *mpb.Progress
	bar      *mpb.Bar
	slots    []*slot
	finished atomic.Int64
}

type slot struct {
	bar     *mpb.Bar     // its line under the main bar
	start   atomic.Int64 // unix nanoseconds; 0 = idle
	id      atomic.Int64
	variant atomic.Int64
}

// New returns a display writing to w; bars when terminal is true. total
// is the number of runs planned (0 = unknown), jobs the VM slots, names the
// variants' names (nil for one unnamed variant).
func New(w io.Writer, terminal bool, total, jobs int, names []string) *Display {
	d := &Display{w: w, total: total, names: names}
	if !terminal {
		return d
	}
	d.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))
	d.w = d.p
	d.bar = d.p.AddBar(int64(total),
		mpb.PrependDecorators(decor.Name("runs "), decor.Any(func(decor.Statistics) string {
			if d.total == 0 {
				return fmt.Sprintf("%d", d.finished.Load())
			}
			return fmt.Sprintf("%d/%d", d.finished.Load(), d.total)
		}, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string { return fmt.Sprintf("crashes %d", d.crashes.Load()) }, decor.WCSyncSpace),
			decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace), "done"),
		))
	for i := 0; i < jobs; i++ {
		s := &slot{}
		d.slots = append(d.slots, s)
		n := i + 1
		s.bar = d.p.New(0, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			st := s.start.Load()
			if st == 0 {
				return fmt.Sprintf("  VM %d: idle", n)
			}
			return fmt.Sprintf("  VM %d: run %d%s %5.1fs", n, s.id.Load(), d.name(int(s.variant.Load())), time.Since(time.Unix(0, st)).Seconds())
		})))
	}
	return d
}

func (d *Display) name(v int) string {
	if v < len(d.names) && d.names[v] != "" {
		return " [" + d.names[v] + "]"
	}
	return ""
}

// Started implements batch.Progress.
func (d *Display) Started(slotIdx, variant int, id int64) {
	if slotIdx < len(d.slots) {
		s := d.slots[slotIdx]
		s.id.Store(id)
		s.variant.Store(int64(variant))
		s.start.Store(time.Now().UnixNano())
	}
}

// Finished implements batch.Progress.
func (d *Display) Finished(slotIdx, variant int, id int64, r *record.Run) {
	d.done++
	d.finished.Store(int64(d.done))
	if r.Verdict == verdict.Crash {
		d.crashes.Add(1)
	}
	if slotIdx < len(d.slots) {
		d.slots[slotIdx].start.Store(0)
	}
	if d.bar != nil {
		if d.total > 0 {
			d.bar.SetCurrent(int64(d.done))
		} else {
			d.bar.EwmaIncrement(time.Duration(r.Wall * float64(time.Second)))
		}
	}
	fmt.Fprintf(d.w, "crashrig: %s\n", Line(d.done, d.total, id, d.name(variant), r))
}

// Line is the one-line account of a finished run.
func Line(n, total int, id int64, variant string, r *record.Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %d", n)
	if total > 0 {
		fmt.Fprintf(&b, "/%d", total)
	}
	if id > 0 {
		fmt.Fprintf(&b, " (#%d)", id)
	}
	b.WriteString(variant)
	b.WriteString(": ")
	b.WriteString(string(r.Verdict))
	switch r.Verdict {
	case verdict.Crash:
		fmt.Fprintf(&b, " after %.1fs: %s", r.TimeToCrash, r.Title)
	case verdict.Pass:
		fmt.Fprintf(&b, " (%.1fs)", r.Wall)
	case verdict.Stopped:
		if n := len(r.Iterations); n > 0 {
			fmt.Fprintf(&b, " after %.1fs of the run, no crash by then", r.Iterations[n-1].Ran)
		}
		fmt.Fprintf(&b, " (%.1fs)", r.Wall)
	default:
		if r.Reason != "" {
			b.WriteString(": " + r.Reason)
		}
	}
	if len(r.Iterations) > 1 {
		c := 0
		for _, it := range r.Iterations {
			if it.Verdict == verdict.Crash {
				c++
			}
		}
		fmt.Fprintf(&b, " [%d iterations, %d crashed]", len(r.Iterations), c)
	}
	return b.String()
}

// Close ends the display.
func (d *Display) Close() {
	if d.p == nil {
		return
	}
	// Complete every bar and wait for the last render: Shutdown would cancel it, losing
	// the last run's line and leaving the bar one run short.
	for _, s := range d.slots {
		s.bar.Abort(true)
	}
	d.bar.SetTotal(int64(d.done), true)
	d.p.Wait()
}
