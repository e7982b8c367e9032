package console

import "regexp"

// A rule says how a kernel crash starts and how it is titled. rules is
// ordered: the first rule whose header occurs in a line (and is not
// suppressed there) wins.
type rule struct {
	header      string // substring that starts a report
	headerBytes []byte
	suppress    []*regexp.Regexp // the line is no crash start after all
	family      string
	// glue says how the header relates to a report already open in the
	// same context: gNone starts a new report, gOops continues an open one
	// when it closely follows it ("Oops: 0000" after "BUG: unable to
	// handle"), gPanic continues an open or just-ended kernel report
	// ("Kernel panic - not syncing: Fatal exception" after an oops).
	glue    glue
	formats []*format
}

type glue int

const (
	gNone glue = iota
	gOops
	gPanic
)

// A format titles a report whose header text (from the header on)
// matches re. The title may use {1}, {2}, ... for re's captures followed
// by more's, and {frame} for the guilty frame found in the stack parts.
type format struct {
	re      *regexp.Regexp
	more    *regexp.Regexp // must match a later line of the report (captures appended)
	title   string
	alt     []string
	stack   []part   // where to look for the guilty frame, in order
	skip    []string // frames to skip besides the common ones (see frames.go)
	fn      int      // capture holding a function named in the header (part pHeader)
	corrupt string   // the format itself means a broken report
	family  string   // overrides the rule's family
	extract extractor
	// noFrame titles a report whose stack holds no guilty frame when
	// the header alone names the bug class ("WARNING: suspicious RCU
	// usage"); such a report is not corrupted.
	noFrame string
	// raw takes the first candidate frame as is, without skipping
	// generic helpers (lockdep's "at:" lines already name the caller).
	raw bool
	// skipRE is compiled from skip at init.
	skipRE *regexp.Regexp
	// strict formats (the generic fallbacks) count as a crash start only
	// when the header opens the message ("RETBleed: WARNING: ..." is boot
	// chatter), and only on a line with a kernel prefix, right after a
	// "-----"/"=====" banner, or in a log that has shown no kernel prefix
	// yet: user programs print "WARNING: ..." too.
	strict bool
}

// A part is one place a guilty frame may come from.
type part int

const (
	pHeader    part = iota // the function named in the header line (format.fn)
	pRIP                   // the faulting instruction: "RIP: 0010:f+0x1/0x2", "pc : f+..."
	pTrace                 // the first call trace after the header
	pAt                    // lockdep's "at: f+0x1/0x2" lines
	pLeak                  // kmemleak's "backtrace:" frames
	pPageOwner             // the stack after "page last allocated" (Bad page reports)
	pBecame                // the stack after lockdep's "which became ... at:"
	pFirstRun              // the first run of frames after the header, with no "Call Trace:" line (KFENCE)
)

type extractor int

const (
	exNone  extractor = iota
	exStall           // loops: take the frame before a dispatch anchor
	exHang            // hung tasks: group rtnl_lock and synchronize_rcu waiters
)

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func init() {
	if len(rules) > 64 {
		panic("console: more than 64 kernel rules")
	}
	for _, r := range append(rules, rebootRule) {
		r.headerBytes = []byte(r.header)
		for _, f := range r.formats {
			f.skipRE = defaultSkip
			if len(f.skip) > 0 {
				f.skipRE = skipper(f.skip)
			}
		}
	}
}

var rules = []*rule{
	{
		header: "BUG:",
		suppress: []*regexp.Regexp{
			re(`[A-Za-z0-9_]BUG:`), // ODEBUG:, DEBUG:, Boot_DEBUG:
			re(`BUG: no syscalls can create resource`),
		},
		family:  "kernel-bug",
		formats: bugFormats,
	},
	{
		header: "WARNING:",
		suppress: []*regexp.Regexp{
			re(`[A-Za-z0-9_]WARNING:`),
			re(`WARNING: /etc/ssh/moduli does not exist`),
			re(`WARNING: DATA RACE`), // Go's race detector: the program goes on
			re(`WARNING: .*(?:[Ss]pectre|RETBleed|[Mm]itigation|data leaks? possible|vulnerable)`),
			re(`WARNING: workqueue cpumask: online intersect > possible intersect`),
			re(`WARNING: [Tt]he mand mount option`),
			re(`WARNING: terminal is not fully functional`),
			re(`WARNING: Unsupported flag value`),
			re(`WARNING: Unprivileged eBPF is enabled`),
			re(`WARNING: fbcon: Driver`),
			re(`WARNING: See https.* for mitigation options`),
			re(`WARNING: kernel not compiled with CPU_SRSO`),
			re(`EXT4-[Ff][Ss](?: \(.*\))?:`),
			re(`XFS \(\w+\): WARNING`),
			re(`BTRFS .*WARNING`),
			re(`(?i)warning: .* uses (deprecated v2 capabilities|wireless extensions)`),
			re(`WARNING: (?:The )?[A-Za-z0-9]+ (?:V[0-9] )?format is deprecated`),
		},
		family:  "kernel-warning",
		formats: warningFormats,
	},
	{
		header: "INFO:",
		suppress: []*regexp.Regexp{
			re(`[A-Za-z0-9_]INFO:`),
			re(`INFO: lockdep is turned off`),
			re(`INFO: Stall ended before state dump start`),
			re(`INFO: NMI handler`),
			re(`INFO: recovery required on readonly filesystem`),
			re(`(?:handler|interrupt).*took too long`),
			re(`INFO: sys_.* is not present in /proc/kallsyms`),
			re(`INFO: no syscalls can create resource`),
			re(`INFO: (?:Slab|Object|Freelist|Padding|Redzone|Freepointer) `),
		},
		family:  "kernel-info",
		formats: infoFormats,
	},
	{
		header: "Unable to handle kernel",
		family: "kernel-oops",
		formats: []*format{
			{re: re(`^Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)`),
				title: "BUG: unable to handle kernel {1} in {frame}", alt: []string{"bad-access in {frame}"}, stack: stackRT},
			{re: re(`^Unable to handle kernel ([a-zA-Z -]+?) at`), title: "BUG: unable to handle kernel {1} in {frame}",
				alt: []string{"bad-access in {frame}"}, stack: stackRT},
			{re: re(`^Unable to handle kernel ([a-zA-Z -]*[a-zA-Z])`), title: "BUG: unable to handle kernel {1} in {frame}",
				alt: []string{"bad-access in {frame}"}, stack: stackRT},
		},
	},
	{
		header: "general protection fault",
		suppress: []*regexp.Regexp{
			// A user-space trap reported by the kernel, not an oops:
			// "traps: prog[123] general protection fault ip:... error:0 in prog[...]".
			re(`general protection fault.* error:\s*-?[0-9a-fx]+ in `),
			re(`general protection fault ip:`),
		},
		family: "kernel-oops",
		formats: []*format{
			{re: re(`^general protection fault`), title: "general protection fault in {frame}",
				alt: []string{"bad-access in {frame}"}, stack: stackRT},
		},
	},
	{
		header: "stack segment: ",
		family: "kernel-oops",
		formats: []*format{
			{re: re(`^stack segment: `), title: "stack segment fault in {frame}", stack: stackRT},
		},
	},
	{
		header: "PANIC: double fault",
		family: "kernel-oops",
		glue:   gOops,
		formats: []*format{
			{re: re(`^PANIC: double fault`), title: "PANIC: double fault in {frame}", stack: []part{pRIP}},
		},
	},
	{
		header: "kernel BUG",
		family: "kernel-bug",
		formats: []*format{
			{re: re(`^kernel BUG at mm/usercopy\.c`), title: "BUG: bad usercopy in {frame}", stack: []part{pTrace},
				skip: []string{"usercopy", "__check"}},
			{re: re(`^kernel BUG at lib/list_debug\.c`), title: "BUG: corrupted list in {frame}",
				alt: []string{"bad-access in {frame}"}, stack: []part{pTrace}},
			{re: re(`^kernel BUG`), title: "kernel BUG in {frame}", stack: stackRT, skip: []string{"^skb_"}},
		},
	},
	{
		header: "Kernel BUG",
		family: "kernel-bug",
		formats: []*format{
			{re: re(`^Kernel BUG`), title: "kernel BUG in {frame}", stack: stackRT, skip: []string{"^skb_"}},
		},
	},
	{
		// SLUB's slab_bug(): "BUG <cache> (<taint>): <what>", for any
		// cache, kmalloc-1k or a named one (lkdtm-heap-double_free).
		header: "BUG ",
		family: "kernel-memory",
		formats: []*format{
			{re: re(`^BUG \S+ \((?:Not tainted|Tainted:[^)]*)\): Object already free`), title: "BUG: Object already free"},
			{re: re(`^BUG \S+ \((?:Not tainted|Tainted:[^)]*)\): ([^.:]+?)(?: 0x[0-9a-f]+)?(?:[.:].*)?$`), title: "BUG: {1}"},
			{re: re(`^BUG kmalloc-[^:]*: ([A-Za-z][A-Za-z ]*)`), title: "BUG: {1}"},
		},
	},
	{
		header: "divide error:",
		family: "kernel-oops",
		formats: []*format{
			{re: re(`^divide error:`), title: "divide error in {frame}", stack: []part{pRIP}},
		},
	},
	{
		// A misspelling of the above in some kernels.
		header: "divide_error:",
		family: "kernel-oops",
		formats: []*format{
			{re: re(`^divide_error:`), title: "divide error in {frame}", stack: []part{pRIP}},
		},
	},
	{
		header: "invalid opcode:",
		family: "kernel-oops",
		glue:   gOops,
		formats: []*format{
			{re: re(`^invalid opcode:`), title: "invalid opcode in {frame}", stack: []part{pRIP}},
		},
	},
	{
		header: "UBSAN:",
		family: "kernel-ubsan",
		formats: []*format{
			{re: re(`^UBSAN: Undefined behaviour in`), title: "UBSAN: undefined-behaviour in {frame}", stack: []part{pTrace},
				skip: []string{"ubsan", "overflow"}},
			{re: re(`^UBSAN: array-index-out-of-bounds in`), title: "UBSAN: array-index-out-of-bounds in {frame}",
				alt: []string{"bad-access in {frame}"}, stack: []part{pTrace}, skip: []string{"ubsan", "overflow"}},
			{re: re(`^UBSAN: (.*?) in`), title: "UBSAN: {1} in {frame}", stack: []part{pTrace},
				skip: []string{"ubsan", "overflow"}},
			{re: re(`^UBSAN: ([a-z0-9-]+)`), title: "UBSAN: {1} in {frame}", stack: []part{pTrace},
				skip: []string{"ubsan", "overflow"}},
		},
	},
	{
		header: "Internal error:",
		family: "kernel-oops",
		glue:   gOops,
		formats: []*format{
			{re: re(`^Internal error:`), title: "Internal error in {frame}", alt: []string{"bad-access in {frame}"}, stack: stackRT},
		},
	},
	{
		header: "Oops",
		suppress: []*regexp.Regexp{
			re(`[A-Za-z0-9_]Oops`),
			re(`Oops[A-Za-z]`),
		},
		family: "kernel-oops",
		glue:   gOops,
		formats: []*format{
			{re: re(`^Oops(?: - [A-Za-z]+)?: [0-9a-fx]+ \[#[0-9]+\]`), title: "Oops in {frame}", stack: stackRT},
			{re: re(`^Oops(?: - |: |\[)`), title: "Oops in {frame}", stack: stackRT, strict: true},
		},
	},
	{
		header: "Kernel panic",
		suppress: []*regexp.Regexp{
			re(`---\[ end Kernel panic`),
		},
		family:  "kernel-panic",
		glue:    gPanic,
		formats: panicFormats,
	},
	{
		header: "rust_kernel: panicked",
		family: "kernel-panic",
		formats: []*format{
			{re: re(`^rust_kernel: panicked`), more: re(`^(.+)$`), title: "{1} in {frame}", stack: []part{pTrace},
				skip: []string{`__rustc::rust_begin_unwind`}},
		},
	},
	{
		header: "Watchdog detected hard LOCKUP",
		family: "kernel-hang",
		formats: []*format{
			{re: re(`^Watchdog detected hard LOCKUP`), title: "watchdog: hard lockup in {frame}", alt: []string{"stall in {frame}"},
				stack: stackRT, extract: exStall, skip: stallSkip},
		},
	},
	{
		header: "unregister_netdevice: waiting for",
		family: "kernel-hang",
		glue:   gPanic,
		formats: []*format{
			{re: re(`^unregister_netdevice: waiting for`), title: "unregister_netdevice: waiting for DEV to become free"},
		},
	},
	{
		header: "VFS: Busy inodes after unmount",
		family: "kernel-memory",
		formats: []*format{
			{re: re(`^VFS: Busy inodes after unmount`), title: "VFS: Busy inodes after unmount (use-after-free)"},
		},
	},
	{
		header: "VFS: Close: file count is 0",
		family: "kernel-memory",
		formats: []*format{
			{re: re(`^VFS: Close: file count is 0`), title: "VFS: Close: file count is zero (use-after-free)"},
		},
	},
	{
		header: "Unhandled fault:",
		family: "kernel-oops",
		formats: []*format{
			{re: re(`^Unhandled fault:`), title: "Unhandled fault in {frame}", alt: []string{"bad-access in {frame}"}, stack: stackRT},
		},
	},
	{
		header: "Alignment trap:",
		family: "kernel-oops",
		formats: []*format{
			{re: re(`^Alignment trap:`), title: "Alignment trap in {frame}", stack: stackRT},
		},
	},
}

var panicFormats = []*format{
	{re: re(`^Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: ([a-zA-Z_][a-zA-Z0-9_.]*)\+`),
		title: "kernel panic: stack is corrupted in {frame}", stack: []part{pHeader}, fn: 1},
	{re: re(`^Kernel panic - not syncing: stack-protector:`),
		title: "kernel panic: stack is corrupted in {frame}", stack: []part{pTrace}, skip: []string{"stack_chk"}},
	{re: re(`^Kernel panic - not syncing: corrupted stack end detected inside scheduler`),
		title: "kernel panic: corrupted stack end in {frame}", alt: []string{"stack-overflow in {frame}"},
		stack: []part{pTrace}, skip: []string{"schedule", "retint_kernel"}, extract: exStall},
	{re: re(`^Kernel panic - not syncing: kernel stack overflow`), title: "kernel stack overflow in {frame}",
		alt: []string{"stack-overflow in {frame}"}, stack: []part{pTrace}, skip: []string{"bad_stack"}, extract: exStall},
	{re: re(`^Kernel panic - not syncing: Attempted to kill init!`), title: "kernel panic: Attempted to kill init!",
		family: "kernel-init-exit"},
	{re: re(`^Kernel panic - not syncing: Attempted to kill the idle task!`), title: "kernel panic: Attempted to kill the idle task!"},
	{re: re(`^Kernel panic - not syncing: Couldn't open N_TTY ldisc`), title: "kernel panic: Couldn't open N_TTY ldisc"},
	{re: re(`^Kernel panic - not syncing: (Fatal exception(?: in interrupt)?)`), title: "kernel panic: {1}",
		corrupt: "a consequence of an oops whose header is missing"},
	{re: re(`^Kernel panic - not syncing: (panic_on_warn set)`), title: "kernel panic: {1}",
		corrupt: "a consequence of a warning whose header is missing"},
	{re: re(`^Kernel panic - not syncing: (hung_task: blocked tasks)`), title: "kernel panic: {1}",
		corrupt: "a consequence of a hung task report whose header is missing", family: "kernel-hang"},
	{re: re(`^Kernel panic - not syncing: (softlockup: hung tasks|Hard LOCKUP|RCU Stall)`), title: "kernel panic: {1}",
		corrupt: "a consequence of a lockup report whose header is missing", family: "kernel-hang"},
	{re: re(`^Kernel panic - not syncing: (VFS: Unable to mount root fs on .*)`), title: "kernel panic: {1}", family: "kernel-boot"},
	{re: re(`^Kernel panic - not syncing: (No working init found|Requested init \S+ failed.*)`), title: "kernel panic: {1}", family: "kernel-boot"},
	{re: re(`^Kernel panic - not syncing: (System is deadlocked on memory|Out of memory.*)`), title: "kernel panic: {1}", family: "kernel-oom"},
	{re: re(`^Kernel panic - not syncing: ?(.*)`), title: "kernel panic: {1}"},
	{re: re(`^Kernel panic(.*)`), title: "kernel panic{1}"},
}
