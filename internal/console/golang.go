package console

import (
	"bytes"
	"strings"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// Go runtime crashes. A Go program that dies prints, on stderr:
//
//	runtime: pointer 0xc000123456 to unallocated span ...   (context, optional)
//	panic: <message> [recovered]          or  fatal error: <message>
//		panic: <nested message>            (tab-indented)
//	[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x47e3b4]
//
//	goroutine 1 [running]:
//	main.work(...)
//		/src/main.go:10
//	main.main()
//		/src/main.go:15 +0x1d
//	exit status 2
//
// A header line alone is not a crash (programs print "panic: ..." as
// text); the report is confirmed by what follows it: a goroutine header,
// "runtime stack:", a "[signal" or "PC=" line, or the process dying the
// way a crashing Go program does (an exit marker with status 2, Go's exit
// status for panics and fatal errors, or a signal; or the kernel's
// "Attempted to kill init!" with such a status).

const (
	maxGoPending  = 40 // lines after an unconfirmed header before it is given up
	goRuntimeBack = 24 // ring lines searched for "runtime:" context before a header
)

// Title strengths of Go header lines.
const (
	rankNone   = iota
	rankWeak   // "unexpected fault address", "panic during panic"
	rankSignal // "SIGSEGV: segmentation violation" (GOTRACEBACK=crash dumps)
	rankMain   // "panic:", "fatal error:", "fatal:"
)

type goState struct {
	confirmed bool
	trace     bool   // a goroutine header or "runtime stack:" was seen
	done      bool   // the traceback ended; the exit marker may still follow
	pending   int    // lines taken before confirmation
	title     int    // index in lines of the title line
	titleText string // the title line from its header on
	rank      int
	signal    string // "SIGSEGV" from a "[signal SIGSEGV: ..." line
}

// goHeader classifies a line that may start a Go crash.
func goHeader(t []byte) int {
	switch {
	case bytes.HasPrefix(t, []byte("panic: ")), bytes.HasPrefix(t, []byte("fatal error: ")),
		bytes.HasPrefix(t, []byte("fatal: ")):
		return rankMain
	case bytes.HasPrefix(t, []byte("unexpected fault address ")), bytes.HasPrefix(t, []byte("panic during panic")):
		return rankWeak
	case isSignalHeader(t), bytes.HasPrefix(t, []byte("Exception 0x")):
		// Exception 0xc0000005 ...: a native exception on Windows.
		return rankSignal
	}
	return rankNone
}

// isSignalHeader matches "SIGSEGV: segmentation violation" and friends.
func isSignalHeader(t []byte) bool {
	if !bytes.HasPrefix(t, []byte("SIG")) {
		return false
	}
	i := 3
	for i < len(t) && t[i] >= 'A' && t[i] <= 'Z' {
		i++
	}
	return i > 4 && i+2 < len(t) && t[i] == ':' && t[i+1] == ' '
}

// goConfirms reports whether a line proves a Go crash is being printed,
// and whether it starts the goroutine traceback.
func goConfirms(t []byte) (confirm, trace bool) {
	switch {
	case isGoroutineHeader(t), bytes.HasPrefix(t, []byte("runtime stack:")):
		return true, true
	case bytes.HasPrefix(t, []byte("[signal ")), bytes.HasPrefix(t, []byte("PC=0x")):
		return true, false
	}
	return false, false
}

func isGoroutineHeader(t []byte) bool {
	return bytes.HasPrefix(t, []byte("goroutine ")) && len(t) > 10 && isDigit(t[10]) && bytes.HasSuffix(t, []byte("]:"))
}

// isGoTraceLine reports whether a line fits the grammar of a Go
// traceback (after its header).
func isGoTraceLine(t []byte) bool {
	if len(t) == 0 || t[0] == '\t' || t[0] == ' ' {
		return true
	}
	for _, p := range goTracePrefixes {
		if bytes.HasPrefix(t, []byte(p)) {
			return true
		}
	}
	if isGoroutineHeader(t) || isSignalHeader(t) || isGoFuncLine(t) || isGoRegister(t) {
		return true
	}
	return false
}

var goTracePrefixes = []string{
	"goroutine ", "created by ", "...additional frames elided...", "runtime stack:", "runtime: ", "[signal ",
	"PC=", "signal arrived during", "fatal error: ", "fatal: ", "panic during panic", "unexpected fault address",
	"exit status ", "stack: frame=", "0x", "[recovered]", "-----", "[originating from goroutine", "non-Go function",
	"\tpanic: ",
}

// isGoFuncLine matches a traceback function line: "main.(*T).f(0x1, ...)".
func isGoFuncLine(t []byte) bool {
	if len(t) < 3 || t[len(t)-1] != ')' {
		return false
	}
	p := bytes.IndexByte(t, '(')
	if p <= 0 {
		return false
	}
	return bytes.IndexByte(t[:p], ' ') < 0
}

// isGoRegister matches a register dump line: "rax    0x0".
func isGoRegister(t []byte) bool {
	i := 0
	for i < len(t) && (t[i] >= 'a' && t[i] <= 'z' || isDigit(t[i])) {
		i++
	}
	if i == 0 || i > 8 || i >= len(t) || t[i] != ' ' {
		return false
	}
	rest := bytes.TrimLeft(t[i:], " ")
	return bytes.HasPrefix(rest, []byte("0x"))
}

// goLine offers a line without kernel prefix to the Go state machine and
// reports whether it took it.
func (a *analyzer) goLine(v *view) bool {
	t := trimJunk(v.text)
	rank := goHeader(t)
	g := a.goRep
	if g != nil && !g.closed {
		if g.gs.trace {
			if rank == rankMain && bytes.HasPrefix(t, []byte("panic: ")) {
				a.endGo(g)
			} else if isGoTraceLine(t) {
				a.takeGo(g, v, t)
				return true
			} else {
				a.endGo(g)
				return false
			}
		} else {
			switch {
			case rank == rankMain && bytes.HasPrefix(t, []byte("panic: ")) && !g.gs.confirmed:
				g.dropped, g.closed = true, true
			case rank != rankNone:
				a.takeGo(g, v, t)
				if rank > g.gs.rank {
					g.gs.rank, g.gs.title, g.gs.titleText = rank, len(g.lines)-1, string(t)
				}
				return true
			case g.gs.confirmed && !isGoTraceLine(t):
				a.endGo(g)
				return false
			case g.gs.pending >= maxGoPending:
				g.dropped, g.closed = true, true
				a.goRep = nil
				return false
			default:
				if r, _, _ := a.matchKernel(v); r != nil {
					return false
				}
				a.takeGo(g, v, t)
				return true
			}
		}
	}
	if rank == rankNone {
		// A crash printed right after a partial line of other output
		// ("....panic: boom"): the header starts in mid-line.
		i := midHeader(t)
		if i < 0 {
			return false
		}
		t, rank = t[i:], rankMain
	}
	a.openGo(v, t, rank)
	return true
}

// midHeader finds "panic: " or "fatal error: " after other text on a
// line, not glued to an identifier (skb_panic: is a kernel function).
func midHeader(t []byte) int {
	for _, h := range [][]byte{[]byte("panic: "), []byte("fatal error: ")} {
		if i := bytes.Index(t, h); i > 0 && !isIdent(t[i-1]) && t[i-1] != ':' && t[i-1] != ' ' {
			return i
		}
	}
	return -1
}

// takeGo adds a line to the Go report and advances its state.
func (a *analyzer) takeGo(g *builder, v *view, t []byte) {
	a.add(g, v.keep())
	if !g.gs.confirmed {
		g.gs.pending++
	}
	confirm, trace := goConfirms(t)
	if confirm {
		a.confirmGo(g)
	}
	if trace {
		g.gs.trace = true
	}
	if g.gs.signal == "" && bytes.HasPrefix(t, []byte("[signal ")) {
		s := t[len("[signal "):]
		if i := bytes.IndexAny(s, ": ]"); i > 0 {
			g.gs.signal = string(s[:i])
		}
	}
}

func (a *analyzer) confirmGo(g *builder) {
	g.gs.confirmed = true
	a.crashSeen = true
}

func (a *analyzer) endGo(g *builder) {
	g.closed = true
	g.gs.done = true
}

// openGo starts a Go report at a header line, pulling in the "runtime:"
// diagnostic lines printed just before it.
func (a *analyzer) openGo(v *view, t []byte, rank int) {
	if g := a.goRep; g != nil && !g.gs.confirmed {
		g.dropped, g.closed = true, true
	}
	g := &builder{kind: KindGo}
	if !a.start(g) {
		a.goRep = nil
		return
	}
	a.goRep = g
	for _, l := range runtimeContext(a.ring.last(goRuntimeBack)) {
		a.add(g, l)
	}
	a.add(g, v.keep())
	g.gs.title, g.gs.rank, g.gs.titleText = len(g.lines)-1, rank, string(t)
}

// runtimeContext returns the trailing "runtime:" block of lines: the
// runtime's diagnostics that precede some fatal errors, with the dump
// lines between them, skipping interleaved kernel lines.
func runtimeContext(prev []line) []line {
	start := -1
	for i := len(prev) - 1; i >= 0; i-- {
		l := prev[i]
		if l.kern {
			continue
		}
		t := l.text
		if strings.HasPrefix(t, "runtime: ") {
			start = i
			continue
		}
		if t == "" || !(strings.HasPrefix(t, "\t") || strings.HasPrefix(t, " ") || strings.Contains(t, "0x")) {
			break
		}
	}
	if start < 0 {
		return nil
	}
	var out []line
	for _, l := range prev[start:] {
		if !l.kern {
			out = append(out, l)
		}
	}
	return out
}

// goMarker lets a guest marker end a Go report: an exit marker says the
// process is gone (and, for an unconfirmed header, whether it died).
func (a *analyzer) goMarker(ev *marker.Event) {
	g := a.goRep
	if g == nil {
		return
	}
	switch ev.Name {
	case marker.Exit:
		// Go exits with status 2 after a panic or fatal error.
		died := ev.Get("how") == "signal" || ev.Get("status") == "2"
		if !g.gs.confirmed && died {
			a.confirmGo(g)
		}
		if !g.gs.confirmed {
			g.dropped = true
		}
		g.closed, g.complete = true, true
		a.goRep = nil
	case marker.Start, marker.Off, marker.Init:
		g.closed = true
		if !g.gs.confirmed {
			g.dropped = true
		}
		a.goRep = nil
	}
}

// goProcessDied handles the kernel's "Attempted to kill init!" after a Go
// crash: the crashing program was PID 1.
func (a *analyzer) goProcessDied(v *view) {
	g := a.goRep
	if g == nil || !bytes.Contains(v.text, []byte("Attempted to kill init!")) {
		return
	}
	if !g.gs.confirmed && (bytes.Contains(v.text, []byte("exitcode=0x00000200")) || signalExit(v.text)) {
		a.confirmGo(g)
	}
	if !g.gs.confirmed {
		g.dropped = true
	}
	g.closed, g.complete = true, true
	a.goRep = nil
}

// signalExit reports whether an "Attempted to kill init! exitcode=0x..."
// line says init was killed by a signal.
func signalExit(t []byte) bool {
	i := bytes.Index(t, []byte("exitcode=0x"))
	if i < 0 {
		return false
	}
	h := t[i+len("exitcode=0x"):]
	if len(h) < 2 {
		return false
	}
	lo := h[len(h)-2:]
	if j := bytes.IndexByte(h, ' '); j >= 2 {
		lo = h[j-2 : j]
	}
	return !bytes.Equal(lo, []byte("00"))
}
