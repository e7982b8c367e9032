package console

import (
	"bytes"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// Memory caps. Whatever the guest prints, a Stream holds at most about
// maxReports * maxReportBytes of report text, maxLineLen of pending line,
// a small ring of context lines and maxMarkers markers.
const (
	maxLineLen     = 8 << 10   // bytes of one line kept for analysis; the rest is skipped
	maxReportLines = 1000      // lines of text kept per report
	maxReportBytes = 256 << 10 // bytes of text kept per report
	maxReports     = 64        // reports kept per log
	maxMarkers     = 1 << 16   // markers kept per log (and pending for TakeMarkers)
)

var markerPrefix = []byte(marker.Prefix)

// A Stream parses a log as it arrives, in chunks of any size. Lines are
// analysed as soon as their '\n' arrives, so the cost of a Write is
// proportional to the chunk, never to the log so far. A Stream is not safe
// for concurrent use.
type Stream struct {
	pos     int64  // bytes written so far
	lineOff int64  // offset of the line being assembled
	buf     []byte // the line being assembled, at most maxLineLen bytes
	cut     bool   // the line being assembled was longer than maxLineLen

	a       analyzer
	markers []marker.Event
	pending []marker.Event // markers not yet returned by TakeMarkers
	corrupt int
	mtrunc  bool // markers were dropped by maxMarkers
	result  *Result
	guest   bool // crashrig's guest init reported: seed lines are plain output

	// carry is the head of a line that a guest marker interrupted: the guest
	// printed "panic: " and its init's heartbeat landed before the rest. The
	// head is put back in front of the next line of plain output.
	carry    []byte
	carryOff int64
	carryFor int // lines left to wait for the rest
}

// Limits of carry: a head longer than maxCarry is analysed on its own, and
// one that no plain line follows within carryLines lines as well.
const (
	maxCarry   = 512
	carryLines = 4
)

// NewStream returns a Stream at the start of a log.
func NewStream() *Stream {
	return &Stream{buf: make([]byte, 0, 256)}
}

// Write consumes the next chunk of the log. It never fails. Writes after
// Close are ignored.
func (s *Stream) Write(p []byte) (int, error) {
	n := len(p)
	if s.result != nil {
		return n, nil
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.appendPart(p)
			s.pos += int64(len(p))
			break
		}
		s.appendPart(p[:i])
		s.pos += int64(i + 1)
		s.endLine()
		p = p[i+1:]
	}
	return n, nil
}

func (s *Stream) appendPart(p []byte) {
	room := maxLineLen - len(s.buf)
	if len(p) > room {
		p = p[:room]
		s.cut = true
	}
	s.buf = append(s.buf, p...)
}

func (s *Stream) endLine() {
	s.line(s.lineOff, s.pos, s.buf)
	s.buf = s.buf[:0]
	if cap(s.buf) > 64<<10 {
		s.buf = make([]byte, 0, 256)
	}
	s.cut = false
	s.lineOff = s.pos
}

// line analyses one complete line, b, spanning [off, end) in the log.
func (s *Stream) line(off, end int64, b []byte) {
	if s.cut {
		s.a.truncated = true
	}
	b = stripCR(b)
	isMarker := false
	if bytes.Contains(b, markerPrefix) {
		ev, st := marker.Parse(b)
		if st == marker.OK {
			s.guest = s.guest || ev.Name == marker.Init
			ev.Offset = off
			s.addMarker(ev)
			s.a.marker(off, end, &ev)
			if i := bytes.Index(b, markerPrefix); i > 0 {
				s.carryHead(off, b[:i])
			}
			return
		}
		s.corrupt++
		isMarker = true
	} else if ev, ok := seedEvent(b); ok && !s.guest {
		ev.Offset = off
		s.addMarker(ev)
		s.a.marker(off, end, &ev)
		return
	}
	v := view{off: off, end: end}
	parsePrefix(&v, b)
	switch {
	case len(s.carry) == 0:
	case !v.kern:
		// The rest of the interrupted line.
		b = append(s.carry, b...)
		s.carry, s.carryFor = nil, 0
		v = view{off: off, end: end}
		parsePrefix(&v, b)
	case s.carryFor > 1:
		s.carryFor-- // a kernel line between the head and its rest
	default:
		s.flushCarry()
	}
	if !v.kern {
		// A kernel line glued after a partial line of other output is
		// analysed as a line of its own.
		if g := gluedKernelLine(b); g > 0 {
			head := view{off: off, end: off + int64(g), text: b[:g], marker: isMarker}
			s.a.feed(&head)
			v = view{off: off + int64(g), end: end, marker: isMarker && bytes.Contains(b[g:], markerPrefix)}
			parsePrefix(&v, b[g:])
			s.a.feed(&v)
			return
		}
	}
	v.marker = isMarker
	s.a.feed(&v)
}

// carryHead keeps the head of an interrupted line for the next plain line,
// analysing any head it held before on its own.
func (s *Stream) carryHead(off int64, head []byte) {
	s.flushCarry()
	if len(head) > maxCarry || len(bytes.TrimSpace(head)) == 0 {
		return
	}
	s.carry = append(make([]byte, 0, len(head)+128), head...)
	s.carryOff, s.carryFor = off, carryLines
}

// flushCarry analyses a held head as a line of its own.
func (s *Stream) flushCarry() {
	if len(s.carry) == 0 {
		return
	}
	v := view{off: s.carryOff, end: s.carryOff + int64(len(s.carry))}
	parsePrefix(&v, s.carry)
	s.carry, s.carryFor = nil, 0
	s.a.feed(&v)
}

func (s *Stream) addMarker(ev marker.Event) {
	if len(s.markers) < maxMarkers {
		s.markers = append(s.markers, ev)
	} else {
		s.mtrunc = true
	}
	if len(s.pending) < maxMarkers {
		s.pending = append(s.pending, ev)
	}
}

// CrashSeen reports whether a crash header (kernel or Go) has been seen in
// the complete lines so far. A Go "panic:" or "fatal error:" line counts
// only once its traceback (or the death of its process) confirms it.
func (s *Stream) CrashSeen() bool { return s.a.crashSeen }

// ReportComplete reports whether, after CrashSeen, the primary report
// looks finished: an end-of-trace marker ("---[ end trace", "---[ end
// Kernel panic") was printed, or a Go traceback ended and its process was
// seen to exit. A caller may stop waiting for more output then.
func (s *Stream) ReportComplete() bool { return s.a.primaryComplete() }

// TakeMarkers returns the well-formed markers completed since the last
// call, in order, with Offset set.
func (s *Stream) TakeMarkers() []marker.Event {
	p := s.pending
	s.pending = nil
	return p
}

// Close flushes the last partial line and returns what the log contains:
// the same Result that Parse would give for the whole log. Calling Close
// again returns the same Result.
func (s *Stream) Close() *Result {
	if s.result != nil {
		return s.result
	}
	if len(s.buf) > 0 || s.cut {
		s.line(s.lineOff, s.pos, s.buf)
		s.buf = s.buf[:0]
	}
	s.flushCarry()
	reps := s.a.finish()
	s.result = &Result{
		Crashed:        len(reps) > 0,
		Reports:        reps,
		Markers:        s.markers,
		CorruptMarkers: s.corrupt,
		Truncated:      s.a.truncated || s.mtrunc,
	}
	return s.result
}
