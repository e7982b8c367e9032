// Package console finds kernel and Go runtime crashes in serial console output.
//
// The input is the raw byte stream of a guest's serial console: kernel
// messages (with or without [ sec.usec] timestamps, [T123]/[C1] caller ids
// and <N> log levels), output of user-space programs, and the guest
// protocol's marker lines (package reproducer/marker). Lines end with
// '\n'; '\r' is ignored. Logs saved from a system journal, syslog or a
// container runtime are understood too (their line prefixes are removed).
// The input may arrive whole (Parse) or in chunks of any size (Stream);
// both give the same Result.
//
// Kernel reports are found by header (BUG:, WARNING:, INFO:, general
// protection fault, Kernel panic, ... see kernel_rules.go) and titled the
// way syzbot titles them, from the first stack frame that is not a generic
// helper. Go reports start at a "panic:", "fatal error:", "fatal:",
// "unexpected fault address" or "SIGxxx:" line and count only once a
// traceback (or the process's death) confirms them.
//
// The output is a Result: the guest markers seen, in order, and the crash
// Reports found, earliest first. A Report has a Kind (kernel or Go), a
// stable one-line Title meant for grouping and comparing crashes (kernel
// titles follow syzbot's conventions, Go titles are
// "go: <panic or fatal error line> in <first non-runtime frame>"), a Family
// pooling related titles, the report text and its byte offsets in the log.
// A report whose title could not be established reliably (merged lines, no
// stack) is still a crash, flagged Corrupted with a reason.
//
// Memory is bounded whatever the guest prints: lines are cut at
// maxLineLen, each report keeps at most maxReportLines lines of text, and at
// most maxReports reports are kept; Result.Truncated says a cap dropped
// something from analysis.
//
// Out of scope: symbolisation (file:line from vmlinux), host-side verdicts
// (hang, lost connection, boot failure) and user-configured suppressions;
// the caller decides those from the markers and its own clocks.
package console

import "github.com/crashrig/crashrig/reproducer/marker"

// A Kind says what crashed.
type Kind string

// Kinds of crash.
const (
	KindKernel Kind = "kernel"
	KindGo     Kind = "go"
)

// A Report is one crash found in a console log.
type Report struct {
	Kind Kind
	// Family pools titles that statistics may count together.
	//
	// Kernel: kernel-warning, kernel-bug (BUG:, kernel BUG at), kernel-oops
	// (page faults, NULL dereferences, GPF, invalid opcode, divide error,
	// double fault), kernel-kasan, kernel-kfence, kernel-kmsan,
	// kernel-kcsan, kernel-ubsan, kernel-lockdep, kernel-hang (soft and
	// hard lockups, RCU stalls, hung tasks), kernel-memory (bad page,
	// SLUB), kernel-memory-leak, kernel-info (other INFO:), kernel-panic,
	// kernel-init-exit (Attempted to kill init!), kernel-boot (no root,
	// no init), kernel-oom, kernel-reboot.
	//
	// Go: go-panic, go-signal (faults: SIGSEGV, SIGBUS, unexpected
	// signal, fault address), go-fatal-memory-corruption (the runtime
	// found its own data damaged: bad pointers, span errors, unexpected
	// return pc, panic during panic, ...), go-oom, go-stack-overflow,
	// go-deadlock, go-data-race (concurrent map access), go-fatal (other
	// fatal errors).
	Family string
	// Title is the stable one-line title, at most 120 bytes; never empty.
	Title string
	// AltTitles are other plausible titles for the same crash (e.g. with
	// syscall wrapper prefixes kept, or without the guilty frame).
	AltTitles []string
	// Corrupted is set when the title could not be trusted: the stack
	// could not be recovered or lines were merged; CorruptedReason says why.
	Corrupted       bool
	CorruptedReason string
	// Notes are facts decoded from the report, e.g. the exit status of an
	// init process that was killed.
	Notes []string
	// Text is the report: the crash lines with console prefixes
	// (timestamps, caller ids, log levels) stripped, '\n'-terminated.
	Text string
	// Start is the byte offset of the beginning of the first report line
	// in the log; End is just past the last report line (after its '\n').
	Start, End int64
	// KernelTime is the [ sec.usec] stamp of the header line in seconds;
	// valid only if HasKernelTime.
	KernelTime    float64
	HasKernelTime bool
}

// A Result is what a whole log (or a closed stream) contains.
type Result struct {
	// Crashed is len(Reports) > 0.
	Crashed bool
	// Reports are the crashes found, earliest first: Reports[0] is the
	// primary crash, later ones are secondary.
	Reports []*Report
	// Markers are the well-formed guest markers, in order, with Offset set
	// to the byte offset of their line.
	Markers []marker.Event
	// CorruptMarkers counts lines that carried marker.Prefix but failed to
	// parse or check out.
	CorruptMarkers int
	// Truncated says memory caps dropped some of the log from analysis
	// (an over-long line, a report longer than the text cap, too many
	// reports).
	Truncated bool
}

// Parse finds the crashes and markers in a whole log.
func Parse(log []byte) *Result {
	s := NewStream()
	s.Write(log)
	return s.Close()
}
