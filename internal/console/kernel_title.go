package console

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

const moreWindow = 25 // lines after the header searched by format.more

// kernelReport turns a finished kernel builder into a Report.
func kernelReport(b *builder) *Report {
	hdr := b.lines[b.hdr]
	r := &Report{
		Kind:          KindKernel,
		Family:        b.rule.family,
		Text:          joinLines(b.lines),
		Start:         b.lines[0].off,
		End:           b.lines[len(b.lines)-1].end,
		KernelTime:    hdr.ts,
		HasKernelTime: hdr.hasTS,
	}
	t := kernelTitle(b)
	r.Title, r.AltTitles, r.CorruptedReason = t.title, t.alts, t.corrupt
	if t.family != "" {
		r.Family = t.family
	}
	if k := stampIndex(hdr.text[b.hdrPos:]); r.CorruptedReason == "" && k >= 0 {
		// Another record merged into the header line: the title is
		// trusted only if the header up to the merge gives it alone.
		cut := hdr.text[b.hdrPos : b.hdrPos+k]
		if !cleanCut.MatchString(cut) || titleOf(b, cut).title != r.Title {
			r.CorruptedReason = "the header line has another line's timestamp merged into it"
		}
	}
	r.Corrupted = r.CorruptedReason != ""
	r.Notes = kernelNotes(b)
	return r
}

type titled struct {
	title   string
	alts    []string
	corrupt string
	family  string
}

// kernelTitle picks the first format of the rule that fits the report.
func kernelTitle(b *builder) titled {
	return titleOf(b, b.lines[b.hdr].text[b.hdrPos:])
}

// titleOf titles b as if its header line (from the header on) were hdr.
func titleOf(b *builder, hdr string) titled {
	for _, f := range b.rule.formats {
		m := f.re.FindStringSubmatch(hdr)
		if m == nil {
			continue
		}
		caps := m[1:]
		if f.more != nil {
			mm := b.findMore(f)
			if mm == nil {
				continue
			}
			caps = append(caps[:len(caps):len(caps)], mm[1:]...)
		}
		return applyFormat(b, f, caps)
	}
	return titled{title: sanitizeTitle(normalize(hdr))}
}

func applyFormat(b *builder, f *format, caps []string) titled {
	t := titled{family: f.family, corrupt: f.corrupt}
	frame, raw := "", ""
	if strings.Contains(f.title, "{frame}") {
		// Without caller ids another task's output may be mixed into
		// the report: frames are read only up to where it starts. A
		// frame found before that point is trusted; none found is
		// corruption, and the title says so rather than guess.
		after := b.lines[b.hdr+1:]
		cut, why := len(after), ""
		if b.ctx == "" {
			cut, why = interleaveCut(after)
		}
		raw = guiltyFrame(b, f, caps, after[:cut])
		frame = stripFrame(raw)
		switch {
		case frame != "":
		case f.noFrame != "" && why == "" && t.corrupt == "":
			// The header alone names the bug class.
			return titled{title: expand(f.noFrame, caps, ""), family: f.family}
		default:
			frame, raw = "corrupted", "corrupted"
			if t.corrupt == "" && why != "" {
				t.corrupt = "no guilty frame before " + why
			} else if t.corrupt == "" {
				t.corrupt = "no guilty frame: the stack trace is missing or holds only generic frames"
			}
		}
	}
	t.title = expand(f.title, caps, frame)
	if raw != frame {
		t.alts = appendNew(t.alts, t.title, expand(f.title, caps, raw))
	}
	for _, a := range f.alt {
		t.alts = appendNew(t.alts, t.title, expand(a, caps, frame))
	}
	return t
}

func anyFrame(ss []string) bool {
	for _, s := range ss {
		if strings.Contains(s, "{frame}") {
			return true
		}
	}
	return false
}

func appendNew(list []string, title, s string) []string {
	if s == title {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// expand fills a title template and normalises the result.
func expand(tmpl string, caps []string, frame string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '{' {
			b.WriteByte(tmpl[i])
			continue
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl[i:])
			break
		}
		key := tmpl[i+1 : i+j]
		i += j
		if key == "frame" {
			b.WriteString(frame)
			continue
		}
		if n, err := strconv.Atoi(key); err == nil && n >= 1 && n <= len(caps) {
			b.WriteString(caps[n-1])
		}
	}
	return sanitizeTitle(normalize(execName.ReplaceAllString(b.String(), "syz-executor")))
}

// execName matches per-run fuzzer process names (syz-executor.3,
// syz-executor123/4567) that would otherwise split one bug into many.
var execName = regexp.MustCompile(`syz-executor\.?[0-9]+(?:[/:][0-9]+)?`)

// findMore searches the lines after the header for f.more.
func (b *builder) findMore(f *format) []string {
	for i := b.hdr + 1; i < len(b.lines) && i <= b.hdr+moreWindow; i++ {
		if m := f.more.FindStringSubmatch(strings.TrimLeft(b.lines[i].text, " ")); m != nil {
			return m
		}
	}
	return nil
}

// guiltyFrame walks the format's stack parts in order and returns the
// first frame that is not a generic helper (unstripped).
func guiltyFrame(b *builder, f *format, caps []string, after []line) string {
	skip := func(fn string) bool { return !f.raw && f.skipRE.MatchString(fn) }
	if f.extract != exNone {
		// Extractors see the stripped names of the frames that are not
		// skipped, as a list; the raw name of the pick is returned.
		var src []string
		if f.extract == exStall {
			src = stallFrames(after)
		} else {
			src = traceFrames(after)
		}
		var raw, stripped []string
		for _, fn := range src {
			// Anchors stay even when generic (do_softirq): the frame
			// above them is the one wanted.
			if !skip(fn) || stallAnchors.MatchString(stripFrame(fn)) {
				raw = append(raw, fn)
				stripped = append(stripped, stripFrame(fn))
			}
		}
		var fn string
		if f.extract == exStall {
			fn = stallFrame(stripped)
		} else {
			fn = hangFrame(stripped)
		}
		for i, s := range stripped {
			if s == fn {
				return raw[i]
			}
		}
		return fn
	}
	for _, p := range f.stack {
		for _, fn := range partFrames(p, b, f, caps, after) {
			if !skip(fn) {
				return fn
			}
		}
	}
	return ""
}

func partFrames(p part, b *builder, f *format, caps []string, after []line) []string {
	switch p {
	case pHeader:
		if f.fn >= 1 && f.fn <= len(caps) {
			if fn, ok := funcToken(caps[f.fn-1] + "+0x0/0x0"); ok {
				return []string{fn}
			}
		}
	case pRIP:
		for _, l := range after {
			if fn, ok, isRIP := ripLine(l.text); isRIP {
				if ok {
					return []string{fn}
				}
				return nil
			}
		}
	case pTrace:
		return traceFrames(after)
	case pAt:
		return atFrames(after)
	case pLeak:
		return framesAfter(after, "backtrace")
	case pPageOwner:
		return framesAfter(after, "page last allocated")
	case pFirstRun:
		for i, l := range after {
			if i > 4 || isStackStart(l.text) {
				break
			}
			if _, kind := parseFrame(l.text); kind == goodFrame {
				return frameRun(after[i:])
			}
		}
	case pBecame:
		for i, l := range after {
			if strings.Contains(l.text, "which became ") && strings.HasSuffix(strings.TrimSpace(l.text), "at:") {
				return frameRun(after[i+1:])
			}
		}
	}
	return nil
}

// interleaveCut finds where output from elsewhere starts inside a report
// printed without caller ids: a fault injection report (its stack would
// name the failing allocation's caller), a second "<TASK>" before the
// first trace closed, or a frame line with another line's timestamp
// merged into it. It returns len(lines) and "" when there is none.
func interleaveCut(lines []line) (int, string) {
	inTask, frames := false, 0
	for i, l := range lines {
		t := strings.TrimSpace(l.text)
		switch {
		case strings.HasPrefix(t, "FAULT_INJECTION: forcing a failure"):
			return i, "a fault injection report interleaved with it"
		case t == "<TASK>":
			if inTask && frames > 0 {
				return i, "a second call trace interleaved with it"
			}
			inTask, frames = true, 0
		case t == "</TASK>":
			inTask = false
		default:
			if _, kind := parseFrame(t); kind == goodFrame || kind == badFrame {
				if hasStamp(t) {
					return i, "a line of other output merged into its stack trace"
				}
				frames++
			}
		}
	}
	return len(lines), ""
}

// framesAfter returns the frames following the first line containing key.
func framesAfter(lines []line, key string) []string {
	for i, l := range lines {
		if strings.Contains(l.text, key) {
			return frameRun(lines[i+1:])
		}
	}
	return nil
}

// traceFrames returns the frames of the first call trace in lines.
func traceFrames(lines []line) []string {
	for i, l := range lines {
		if isStackStart(l.text) {
			return frameRun(lines[i+1:])
		}
	}
	return nil
}

// frameRun reads reliable frames until the trace ends.
func frameRun(lines []line) []string {
	var out []string
	misses := 0
	for _, l := range lines {
		t := l.text
		if strings.TrimSpace(t) == "" || isStackStart(t) || strings.Contains(t, "---[ end") ||
			strings.HasPrefix(t, "Modules linked in") || strings.HasPrefix(t, "Kernel Offset") {
			break
		}
		if _, _, isRIP := ripLine(t); isRIP {
			// Registers of an interrupted context inside the trace: not a
			// frame of it (stallFrames takes the RIP it needs itself).
			misses = 0
			continue
		}
		fn, kind := parseFrame(t)
		switch kind {
		case goodFrame:
			out = append(out, fn)
			misses = 0
		case badFrame, frameMarker:
		default:
			if isRegisterLine(t) {
				continue
			}
			misses++
			if misses >= 3 {
				return out
			}
		}
		if len(out) >= 64 {
			break
		}
	}
	return out
}

// atFrames returns the functions of lockdep's "at:" lines.
func atFrames(lines []line) []string {
	var out []string
	for i, l := range lines {
		if i > 80 {
			break
		}
		t := strings.TrimRight(l.text, " ")
		if strings.HasSuffix(t, " at:") && i+1 < len(lines) {
			if fn, kind := parseFrame(lines[i+1].text); kind == goodFrame {
				out = append(out, fn)
			}
			continue
		}
		if fn, ok := atFunc(t); ok {
			out = append(out, fn)
		}
	}
	return out
}

// stallFrames returns the frames of the looping context: from the timer
// interrupt that caught it (or the NMI backtrace) on, the interrupted
// RIP and the call trace.
func stallFrames(lines []line) []string {
	start := -1
	for i, l := range lines {
		if isStallStart(l.text) {
			start = i
			break
		}
	}
	var out []string
	for _, l := range lines[max(start, 0):] {
		if fn, ok, isRIP := ripLine(l.text); isRIP {
			if ok {
				out = append(out, fn)
			}
			break
		}
	}
	if start >= 0 {
		return append(out, frameRun(lines[start+1:])...)
	}
	return append(out, traceFrames(lines)...)
}

// kernelNotes decodes facts worth keeping, such as init's exit status.
func kernelNotes(b *builder) []string {
	var notes []string
	for _, l := range b.lines {
		i := strings.Index(l.text, "Attempted to kill init! exitcode=")
		if i < 0 {
			continue
		}
		s := strings.TrimSpace(l.text[i+len("Attempted to kill init! exitcode="):])
		if sp := strings.IndexByte(s, ' '); sp >= 0 {
			s = s[:sp]
		}
		code, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
		if err != nil {
			continue
		}
		notes = append(notes, describeWaitStatus(uint32(code)))
	}
	return notes
}

// describeWaitStatus explains init's exit code, a wait status: exit
// status << 8, or the number of the signal that killed it.
func describeWaitStatus(code uint32) string {
	sig := code & 0x7f
	if sig == 0 {
		st := code >> 8 & 0xff
		if st == 0 {
			return "init exited with status 0: it returned normally, a setup problem rather than a crash"
		}
		return fmt.Sprintf("init exited with status %d", st)
	}
	s := fmt.Sprintf("init was killed by signal %d", sig)
	if n, ok := signalNames[sig]; ok {
		s += " (" + n + ")"
	}
	if code&0x80 != 0 {
		s += ", core dumped"
	}
	return s
}

var signalNames = map[uint32]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
	9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	31: "SIGSYS",
}

// cleanCut matches header text that ends where a record could end: after
// a space, a bracket, or a complete "f+0x1/0x2" function; a merge that
// cuts a word ("at x.c:2", "in foo_b") may have cut what the title uses.
var cleanCut = regexp.MustCompile(`(?:[\s)\]]|\+0x[0-9a-f]+/0x[0-9a-f]+)$`)

// hasStamp reports whether s holds a kernel "[ sec.usec]" stamp, the sign
// of two lines merged into one.
func hasStamp(s string) bool { return stampIndex(s) >= 0 }

// stampIndex returns the position of the first "[ sec.usec]" stamp in s,
// or -1.
func stampIndex(s string) int {
	b := []byte(s)
	for i := bytes.IndexByte(b, '['); i >= 0; {
		if _, n := timestamp(b[i:], false); n > 0 {
			return i
		}
		j := bytes.IndexByte(b[i+1:], '[')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return -1
}

func joinLines(ls []line) string {
	n := 0
	for _, l := range ls {
		n += len(l.text) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for _, l := range ls {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}
