package console

import (
	"sort"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// The analyzer is the line-by-line state machine behind Stream: it sees
// every line once, in order, decides where reports start and end, and
// keeps the lines of each report (within the caps) for finish to title.
type analyzer struct {
	n          int        // lines seen
	builders   []*builder // every report started, in order
	kopen      []*builder // kernel reports still taking lines
	goRep      *builder   // the Go report being read; nil when none
	lastKernel *builder   // the latest kernel report
	ring       ring       // recent lines, context before a header
	booted     bool       // the kernel has been running (for reboot detection)
	sawKern    bool       // a line with a kernel prefix was seen
	crashSeen  bool
	truncated  bool
}

// A builder collects one report.
type builder struct {
	kind     Kind
	rule     *rule // kernel reports
	ctx      string
	kern     bool   // the header line carried a kernel prefix
	pre      []line // lines before the header, for the title only
	lines    []line // the report's lines; lines[hdr] is the header
	hdr      int    // index of the header in lines
	hdrPos   int    // offset of the header in the header line's text
	banner   byte   // the header followed a "=====" banner ('='); another one ends the report
	size     int
	startN   int // analyzer line number of the header
	lastN    int // analyzer line number of the last line taken
	closed   bool
	complete bool    // an end-of-trace marker or process exit ended it
	full     bool    // text cap reached
	nmi      bool    // an all-CPU backtrace is being printed
	lastTS   float64 // kernel time of the last line taken
	dropped  bool    // not a crash after all (an unconfirmed Go header)

	// Go reports.
	gs goState
}

// add appends a line to b's text within the caps.
func (a *analyzer) add(b *builder, l line) {
	b.lastN = a.n
	if b.full {
		return
	}
	if len(b.lines) >= maxReportLines || b.size+len(l.text) > maxReportBytes {
		b.full = true
		a.truncated = true
		return
	}
	b.lines = append(b.lines, l)
	b.size += len(l.text) + 1
}

// start registers a new report; it returns false when maxReports is
// reached.
func (a *analyzer) start(b *builder) bool {
	if len(a.builders) >= maxReports {
		a.truncated = true
		return false
	}
	b.startN, b.lastN = a.n, a.n
	a.builders = append(a.builders, b)
	return true
}

// feed analyses one line that is not a well-formed marker.
func (a *analyzer) feed(v *view) {
	a.n++
	a.sawKern = a.sawKern || v.kern
	if !v.marker {
		if !v.kern && a.goLine(v) {
			a.ring.push(v)
			return
		}
		if a.goRep != nil {
			a.goProcessDied(v)
		}
		a.kernelLine(v)
		a.noteBoot(v)
	}
	a.ring.push(v)
}

// marker takes a well-formed guest marker line.
func (a *analyzer) marker(off, end int64, ev *marker.Event) {
	a.n++
	a.booted = true
	a.goMarker(ev)
	a.ring.reset()
}

// primaryComplete reports whether the first real report has ended.
func (a *analyzer) primaryComplete() bool {
	for _, b := range a.builders {
		if b.dropped || (b.kind == KindGo && !b.gs.confirmed) {
			continue
		}
		return b.complete
	}
	return false
}

// finish closes everything and builds the reports, earliest first.
func (a *analyzer) finish() []*Report {
	var reps []*Report
	for _, b := range a.builders {
		if b.dropped || (b.kind == KindGo && !b.gs.confirmed) || len(b.lines) == 0 {
			continue
		}
		var r *Report
		if b.kind == KindGo {
			r = goReport(b)
		} else {
			r = kernelReport(b)
		}
		if r != nil {
			reps = append(reps, r)
		}
	}
	sort.SliceStable(reps, func(i, j int) bool { return reps[i].Start < reps[j].Start })
	return reps
}

// A ring holds the last few lines before the current one.
type ring struct {
	lines [ringSize]line // text and ctx are filled in by last
	bufs  [ringSize][]byte
	ctxs  [ringSize][]byte
	n     int // lines pushed since reset
}

const ringSize = 32

func (r *ring) push(v *view) {
	i := r.n % ringSize
	r.bufs[i] = append(r.bufs[i][:0], v.text...)
	r.ctxs[i] = append(r.ctxs[i][:0], v.ctx...)
	r.lines[i] = line{off: v.off, end: v.end, ts: v.ts, hasTS: v.hasTS, kern: v.kern}
	r.n++
}

func (r *ring) reset() { r.n = 0 }

// last returns up to k most recent lines, oldest first, as kept lines.
func (r *ring) last(k int) []line {
	if k > r.n {
		k = r.n
	}
	if k > ringSize {
		k = ringSize
	}
	out := make([]line, 0, k)
	for j := r.n - k; j < r.n; j++ {
		l := r.lines[j%ringSize]
		l.text = string(r.bufs[j%ringSize])
		l.ctx = string(r.ctxs[j%ringSize])
		out = append(out, l)
	}
	return out
}
