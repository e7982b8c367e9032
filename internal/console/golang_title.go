package console

import (
	"strings"
)

// goReport turns a confirmed Go builder into a Report titled
// "go: <header line, normalised> in <first non-runtime frame>".
func goReport(b *builder) *Report {
	hdr := strings.TrimSpace(b.gs.titleText)
	msg := sanitizeTitle(normalize(hdr))
	fn := goCulprit(b.lines[b.gs.title:], strings.Contains(hdr, "fatal error: sync: "))
	if strings.HasPrefix(hdr, "panic: test timed out after ") {
		// The alarm goroutine is never the culprit; the test running is.
		fn = runningTest(b.lines[b.gs.title:])
	}
	r := &Report{
		Kind:   KindGo,
		Family: goFamily(hdr, b.gs.signal),
		Text:   joinLines(b.lines),
		Start:  b.lines[0].off,
		End:    b.lines[len(b.lines)-1].end,
	}
	base := "go: " + msg
	if fn != "" {
		fn = shortFunc(fn)
		tail := " in " + fn
		if len(base)+len(tail) > maxTitleLen && len(tail) < maxTitleLen/2 {
			// Cut the message, not the frame.
			base = sanitizeTitle(base[:maxTitleLen-len(tail)])
		}
		r.Title = sanitizeTitle(base + tail)
		r.AltTitles = []string{sanitizeTitle(base)}
	} else {
		r.Title = sanitizeTitle(base)
	}
	if !b.gs.trace {
		r.Notes = append(r.Notes, "no goroutine traceback: confirmed by the process exit alone")
	}
	if hasStamp(hdr) {
		r.Corrupted, r.CorruptedReason = true, "the header line has a kernel line merged into it"
	}
	return r
}

// goCulprit returns the first frame of the crashing goroutine (the first
// one printed after the header) that is not part of the runtime.
// With skipSync, frames of package sync are skipped too: the runtime
// throws "sync: unlock of unlocked mutex" from inside the sync package.
func goCulprit(lines []line, skipSync bool) string {
	in := false
	for i, l := range lines {
		t := l.text
		if l.kern {
			continue
		}
		if isGoroutineHeader([]byte(t)) {
			if in {
				return ""
			}
			in = true
			continue
		}
		if !in {
			continue
		}
		if t == "" {
			return ""
		}
		if strings.HasPrefix(t, "created by ") || !isGoFuncLine([]byte(t)) {
			continue
		}
		fn := goFuncName(t)
		file := ""
		for _, n := range lines[i+1:] {
			if !n.kern {
				file = strings.TrimSpace(n.text)
				break
			}
		}
		if !isRuntimeFrame(fn, file) && !isWrapperFrame(fn) && !(skipSync && strings.HasPrefix(fn, "sync.")) {
			return fn
		}
	}
	return ""
}

// shortFunc drops the import path of a function's package but its last
// element: github.com/a/b/pkg.(*T).M becomes pkg.(*T).M, as pprof prints.
func shortFunc(fn string) string {
	// Tracebacks print type parameters as "[...]", so a '/' can only be
	// part of the import path.
	if slash := strings.LastIndexByte(fn, '/'); slash >= 0 {
		return fn[slash+1:]
	}
	return fn
}

// runningTest returns the first test listed under "running tests:" in
// the output of a timed out go test.
func runningTest(lines []line) string {
	for i, l := range lines {
		if l.text == "running tests:" && i+1 < len(lines) {
			t := strings.TrimSpace(lines[i+1].text)
			if sp := strings.IndexByte(t, ' '); sp > 0 {
				t = t[:sp]
			}
			return t
		}
	}
	return ""
}

// goFuncName strips the argument list from a traceback function line.
func goFuncName(t string) string {
	depth := 0
	for i := len(t) - 1; i >= 0; i-- {
		switch t[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				return t[:i]
			}
		}
	}
	return t
}

// isRuntimeFrame reports whether a frame belongs to the Go runtime: its
// package is runtime or a standard internal package (internal/runtime/maps,
// internal/sync: the runtime's helpers), it is the builtin panic,
// or its source file lives in the runtime's directory (which covers
// functions linknamed into other packages, like sync.runtime_Semacquire).
func isRuntimeFrame(fn, file string) bool {
	if fn == "panic" || fn == "runtime" || strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "runtime/") ||
		strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "gopanic") {
		return true
	}
	if sp := strings.IndexByte(file, ' '); sp >= 0 {
		file = file[:sp]
	}
	return strings.Contains(file, "/src/runtime/") || strings.Contains(file, "/src/internal/runtime/") ||
		strings.HasPrefix(file, "runtime/") || strings.HasPrefix(file, "internal/runtime/")
}

// isWrapperFrame reports frames of the standard library that only pass a
// panic on: the testing package's recovery closures (a test that panics
// shows testing.tRunner.func1.2 on top) and log.Panic*.
func isWrapperFrame(fn string) bool {
	return strings.HasPrefix(fn, "testing.tRunner.func") || strings.HasPrefix(fn, "log.Panic") ||
		strings.HasPrefix(fn, "log.(*Logger).Panic")
}

// Go families pool titles whose messages differ but whose causes are of
// one kind.
const (
	famPanic      = "go-panic"                   // panic: raised by the program (or a runtime error in it)
	famSignal     = "go-signal"                  // a fault: SIGSEGV/SIGBUS/SIGILL in Go or the runtime
	famCorruption = "go-fatal-memory-corruption" // the runtime found its own data damaged
	famOOM        = "go-oom"                     // out of memory or threads
	famDeadlock   = "go-deadlock"                // all goroutines are asleep
	famDataRace   = "go-data-race"               // concurrent map access detected by the runtime
	famStack      = "go-stack-overflow"          // goroutine stack exceeds its limit
	famFatal      = "go-fatal"                   // any other fatal error
)

var corruptionWords = []string{
	"bad pointer", "free space", "free object", "unallocated span", "sweep", "unexpected return pc", "traceback",
	"unknown pc", "invalid pointer", "bad g", "morestack", "mspan", "mheap", "span", "workbuf", "heap", "casgstatus",
	"malloc", "out of range", "panic during panic", "holding locks", "lock count", "unlock of unlocked lock", "bad defer",
	"bad stack", "wirep", "acquirep", "releasep", "findrunnable", "bad status", "freedefer", "pcvalue", "funcdata",
	"symbol table", "missing stack", "copystack", "stack not", "invalid memory address", "nil pointer", "g0",
	"gcBgMarkWorker", "mark", "scan", "corrupt", "unaligned", "misaligned", "bad summary", "stack split",
}

// goFamily classifies a Go crash from its header line and signal.
func goFamily(hdr, signal string) string {
	msg := hdr
	for _, p := range []string{"panic: ", "fatal error: ", "fatal: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	switch {
	case strings.Contains(msg, "out of memory") || strings.Contains(msg, "cannot allocate memory") ||
		strings.Contains(msg, "thread exhaustion") || strings.Contains(msg, "failed to create new OS thread") ||
		strings.Contains(msg, "newosproc"):
		return famOOM
	case strings.Contains(msg, "stack overflow") || strings.Contains(msg, "stack exceeds"):
		return famStack
	case strings.Contains(msg, "all goroutines are asleep"):
		return famDeadlock
	case strings.Contains(msg, "concurrent map"):
		return famDataRace
	case strings.HasPrefix(hdr, "unexpected fault address"), strings.Contains(msg, "unexpected signal"),
		strings.HasPrefix(hdr, "Exception 0x"),
		hdr == "fatal error: fault", strings.HasPrefix(hdr, "SIG") && !strings.HasPrefix(hdr, "SIGQUIT") &&
			!strings.HasPrefix(hdr, "SIGABRT") && !strings.HasPrefix(hdr, "SIGTERM"),
		strings.Contains(msg, "signal arrived during"):
		return famSignal
	case strings.HasPrefix(hdr, "panic: "):
		switch signal {
		case "SIGSEGV", "SIGBUS", "SIGILL", "SIGTRAP":
			return famSignal
		}
		return famPanic
	case strings.HasPrefix(hdr, "panic during panic"):
		return famCorruption
	}
	if strings.HasPrefix(msg, "sync: ") {
		return famFatal
	}
	for _, w := range corruptionWords {
		if strings.Contains(msg, w) {
			return famCorruption
		}
	}
	return famFatal
}
