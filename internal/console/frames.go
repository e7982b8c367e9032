package console

import "strings"

// Kernel stack frames as printed by the kernel (x86 and arm64 mostly):
//
//	 foo+0x1a/0x40
//	 ? foo+0x1a/0x40                       (unreliable: ignored)
//	 [<ffffffff81234567>] foo+0x1a/0x40     (older kernels, kmemleak)
//	 foo+0x1a/0x40 [module]
//	 foo+0x1a/0x40 mm/foo.c:123             (symbolised)
//	 foo mm/foo.c:123 [inline]              (symbolised inline frame)
//	 <TASK> </TASK> <IRQ> </IRQ> <NMI> <EOI> (section markers)

type frameKind int

const (
	notFrame frameKind = iota
	goodFrame
	badFrame    // unreliable ("? foo+0x..") frame
	frameMarker // <TASK>, </IRQ>, ...
)

// parseFrame returns the function named by a stack trace line.
func parseFrame(s string) (string, frameKind) {
	t := strings.TrimLeft(s, " \t")
	if len(t) > 2 && t[0] == '<' && t[len(t)-1] == '>' && len(t) < 12 {
		return "", frameMarker
	}
	t = skipAddrs(t)
	kind := goodFrame
	if strings.HasPrefix(t, "? ") {
		kind = badFrame
		t = strings.TrimLeft(t[2:], " ")
	}
	if strings.HasSuffix(t, " (unreliable)") {
		kind = badFrame
	}
	fn, ok := funcToken(t)
	if !ok {
		return "", notFrame
	}
	return fn, kind
}

// skipAddrs skips "[<ffffffff81234567>] " and "[c000000000f0fd00] "
// address columns.
func skipAddrs(t string) string {
	for len(t) > 2 && t[0] == '[' {
		end := strings.IndexByte(t, ']')
		if end < 0 {
			return t
		}
		inner := strings.Trim(t[1:end], "<>")
		if inner == "" || !allHex(inner) {
			return t
		}
		t = strings.TrimLeft(t[end+1:], " \t")
	}
	return t
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// funcToken parses "name+0xoff/0xsize ..." or a symbolised "name
// file.c:123" at the start of t and returns the base name ("foo" for
// "foo.isra.0+0x1/0x2").
func funcToken(t string) (string, bool) {
	i := 0
	for i < len(t) && (isIdent(t[i]) || t[i] == '.') {
		i++
	}
	if i == 0 || isDigit(t[0]) || t[0] == '.' {
		return "", false
	}
	name := t[:i]
	rest := t[i:]
	switch {
	case strings.HasPrefix(rest, "+0x"):
		j := skipHex(rest, 3)
		if j == 3 || j >= len(rest) || rest[j] != '/' {
			// arm64 "pc : foo+0x1c" has no size.
			if j == 3 || j < len(rest) && rest[j] != ' ' {
				return "", false
			}
		}
	case strings.HasPrefix(rest, " ") && looksLikeSource(strings.TrimLeft(rest, " ")):
	default:
		return "", false
	}
	if k := strings.IndexByte(name, '.'); k > 0 {
		name = name[:k]
	}
	return name, true
}

// looksLikeSource reports whether s starts with "dir/file.c:123".
func looksLikeSource(s string) bool {
	sp := strings.IndexByte(s, ' ')
	if sp >= 0 {
		s = s[:sp]
	}
	c := strings.LastIndexByte(s, ':')
	if c <= 0 || c+1 >= len(s) || !isDigit(s[c+1]) {
		return false
	}
	dot := strings.LastIndexByte(s[:c], '.')
	return dot > 0
}

// ripFunc returns the function of a faulting-instruction line
// ("RIP: 0010:foo+0x1a/0x40", "pc : foo+0x1a/0x40", "PC is at foo+0x..",
// "NIP [c0000000001234] foo+0x..", "IP: [<ffffffff>] foo+0x..") or "".
func ripFunc(s string) (string, bool) {
	t := strings.TrimLeft(s, " \t")
	var rest string
	found := false
	for _, p := range []string{"RIP: ", "EIP: ", "IP: ", "pc : ", "PC is at ", "NIP: ", "NIP ", "epc : "} {
		if strings.HasPrefix(t, p) {
			rest, found = t[len(p):], true
			break
		}
	}
	if !found {
		return "", false
	}
	rest = strings.TrimLeft(rest, " ")
	// "0010:" segment selector.
	if c := strings.IndexByte(rest, ':'); c > 0 && c <= 4 && allDigitsStr(rest[:c]) {
		rest = rest[c+1:]
	}
	rest = skipAddrs(rest)
	if i := strings.Index(rest, "] "); i >= 0 && strings.HasPrefix(rest, "[") {
		rest = rest[i+2:]
	}
	fn, ok := funcToken(rest)
	return fn, ok
}

func allDigitsStr(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// atFunc returns the function of a lockdep "... at: foo+0x1a/0x40" line.
func atFunc(s string) (string, bool) {
	i := strings.Index(s, "at: ")
	if i < 0 {
		return "", false
	}
	t := skipAddrs(strings.TrimLeft(s[i+4:], " "))
	return funcToken(t)
}

// isStackStart reports whether a line opens a call trace.
func isStackStart(t string) bool {
	t = strings.TrimLeft(t, " ")
	return strings.HasPrefix(t, "Call Trace:") || strings.HasPrefix(t, "Call trace:") ||
		strings.HasPrefix(t, "Backtrace:") || t == "Call Trace" || strings.HasPrefix(t, "Call Trace ")
}

// isRegisterLine reports whether a line belongs to a register dump printed
// in the middle of a call trace (x86 prints the interrupted registers
// between <IRQ> and </IRQ> sections).
func isRegisterLine(t string) bool {
	t = strings.TrimLeft(t, " ")
	if strings.HasPrefix(t, "Code: ") || strings.HasPrefix(t, "RIP: ") {
		return true
	}
	if len(t) < 4 {
		return false
	}
	c := strings.IndexByte(t, ':')
	if c < 2 || c > 4 {
		return false
	}
	for i := 0; i < c; i++ {
		if !(t[i] >= 'A' && t[i] <= 'Z' || isDigit(t[i])) {
			return false
		}
	}
	return true
}

// skipFrame reports whether fn is a generic helper that is never the
// culprit: printing, reporting machinery, sanitizers, locking, memory
// and string helpers.
func skipFrame(fn string, extra []string) bool {
	return matchAny(fn, commonSkip) || matchAny(fn, extra)
}

// matchAny matches fn against patterns: "foo" exact, "foo*" prefix,
// "*foo" suffix, "*foo*" substring.
func matchAny(fn string, pats []string) bool {
	for _, p := range pats {
		if matchPattern(fn, p) {
			return true
		}
	}
	return false
}

func matchPattern(fn, p string) bool {
	pre := strings.HasPrefix(p, "*")
	suf := strings.HasSuffix(p, "*") && len(p) > 1
	core := strings.Trim(p, "*")
	switch {
	case pre && suf:
		return strings.Contains(fn, core)
	case pre:
		return strings.HasSuffix(fn, core)
	case suf:
		return strings.HasPrefix(fn, core)
	}
	return fn == p
}

var commonSkip = []string{
	// Reporting machinery.
	"*dump_stack*", "show_stack", "show_regs", "show_trace*", "__show_regs", "show_trace_log_lvl", "*printk*",
	"*warn_slowpath*", "__warn", "__warn_printk", "warn_alloc*", "report_bug", "fixup_bug", "handle_bug", "do_error_trap",
	"do_trap*", "*invalid_op*", "exc_*", "asm_exc_*", "die", "__die*", "oops_*", "*panic*", "nmi_cpu_backtrace*",
	"nmi_trigger_cpumask_backtrace", "arch_trigger_cpumask_backtrace", "print_address_description*", "print_report",
	"print_error_description", "describe_object*", "bad_page*", "page_fault*", "do_page_fault", "__do_page_fault",
	"do_user_addr_fault", "do_kern_addr_fault", "kernelmode_fixup_or_oops", "__bad_area*", "bad_area*", "no_context",
	"do_general_protection", "general_protection", "do_int3*", "program_check_exception", "program_check_common",
	"die_kernel_fault", "__do_kernel_fault", "do_mem_abort", "el1_*", "el1h_*", "do_translation_fault", "do_bad_area",
	// Sanitizers and debugging helpers.
	"*__sanitizer*", "__asan*", "*kasan*", "__msan*", "*kmsan*", "__tsan*", "*kcsan*", "__ubsan_*", "ubsan_*",
	"*kfence*", "check_memory_region*", "read_word_at_a_time", "*debug_object*", "timer_is_static_object",
	"work_is_static_object", "kcov_*", "__kcov_*", "*should_fail*", "fail_dump", "__should_failslab", "should_failslab",
	// Locking.
	"*lockdep*", "lock_acquire*", "lock_release*", "lock_class*", "reacquire_held_locks", "*spin_lock*",
	"*spin_trylock*", "*spin_unlock*", "*raw_read_lock*", "*raw_read_trylock*", "*raw_write_lock*",
	"*raw_write_trylock*", "*raw_read_unlock*", "*raw_write_unlock*", "do_raw_*", "down", "down_read*", "down_write*",
	"down_trylock", "down_interruptible", "down_killable", "up_read", "up_write", "up", "*mutex_lock*",
	"*mutex_trylock*", "*mutex_unlock*", "mutex_remove_waiter", "osq_lock", "osq_unlock", "__wake_up*",
	"queued_spin_*", "queued_read_*", "queued_write_*", "native_queued_spin_*", "__pv_queued_spin_*", "pv_queued_spin_*",
	"rwsem_down_*", "__down_*", "__up_*", "rt_mutex*", "__rt_mutex*",
	// Reference counts, lists, memory and string helpers.
	"refcount_*", "__refcount_*", "*memcpy*", "*memcmp*", "*memset*", "*memchr*", "*memmove*", "strcmp", "strncmp",
	"strcasecmp", "strncasecmp", "strcpy", "strlcpy", "strncpy", "strscpy*", "strlen", "strnstr", "strnlen*", "strchr",
	"strrchr", "strstr", "strcat", "strncat", "strlcat", "*copy_to_user*", "*copy_from_user*", "*put_user*",
	"*get_user*", "*might_fault*", "*might_sleep*", "__might_resched", "*list_add*", "*list_del*", "*list_replace*",
	"*list_move*", "*list_splice*", "*_indirect_thunk_*", "*_return_thunk*", "string", "string_nocheck", "pointer",
	"vsnprintf", "snprintf", "scnprintf", "vscnprintf", "sprintf", "vsprintf", "kasprintf", "kvasprintf",
	"dev_info", "dev_notice", "dev_warn", "dev_err", "dev_alert", "dev_crit", "dev_emerg", "dev_printk*", "_dev_*",
	// Work, timers and device teardown that wait for the real culprit.
	"del_timer*", "timer_delete*", "flush_work", "__flush_work", "__cancel_work_timer", "__cancel_work*",
	"cancel_work_sync", "try_to_grab_pending", "finish_wait", "kthread_stop", "kobject_del", "kobject_put",
	"kobject_uevent_env", "add_uevent_var", "get_device_parent", "device_add", "device_del", "device_unregister",
	"device_destroy",
}

// syscallName turns a syscall wrapper into the syscall's name:
// __x64_sys_ioctl, __se_sys_ioctl, __do_sys_ioctl, SyS_ioctl and
// SYSC_ioctl all become sys_ioctl.
func syscallName(fn string) string {
	for _, p := range []string{"__x64_", "__ia32_", "__arm64_", "__riscv_", "__s390x_", "__s390_", "__se_", "__do_"} {
		if strings.HasPrefix(fn, p+"sys_") || strings.HasPrefix(fn, p+"compat_sys_") {
			return fn[len(p):]
		}
	}
	for _, p := range []string{"SyS_", "SYSC_"} {
		if strings.HasPrefix(fn, p) {
			return "sys_" + fn[len(p):]
		}
	}
	for _, p := range []string{"compat_SyS_", "compat_SYSC_"} {
		if strings.HasPrefix(fn, p) {
			return "compat_sys_" + fn[len(p):]
		}
	}
	return fn
}

// Stall anchors: functions that dispatch work. A loop detected by a stall
// or lockup detector is identified by the frame just above the first
// anchor (the syscall, work item or timer that loops), not by the random
// place the interrupt caught it in.
var stallAnchors = []string{
	"process_one_work", "do_syscall_*", "do_fast_syscall_*", "sysenter_dispatch", "tracesys_phase2",
	"*netif_receive_skb*", "do_softirq*", "__do_softirq", "call_timer_fn", "*_run_timers", "run_timer_softirq",
	"run_ksoftirqd", "smpboot_thread_fn", "kthread", "start_secondary", "cpu_startup_entry", "ret_from_fork*",
	"vfs_write", "vfs_read", "vfs_iter_read", "vfs_iter_write", "do_iter_read", "do_iter_write", "vfs_ioctl",
	"blkdev_driver_ioctl", "blkdev_ioctl", "call_read_iter", "call_write_iter", "do_iter_readv_writev", "call_mmap",
	"mmap_region", "do_mmap", "do_dentry_open", "vfs_open", "sock_sendmsg*", "sock_recvmsg*", "sock_release",
	"__sock_release", "__sys_setsockopt", "kernel_setsockopt", "sock_common_setsockopt", "__sys_listen",
	"kernel_listen", "sk_common_release", "sock_mmap", "__sys_accept*", "kernel_accept", "sock_do_ioctl", "sock_ioctl",
	"compat_sock_ioctl", "nfnetlink_rcv_msg", "sys_socketpair", "sys_connect", "sys_ioctl", "compat_sys_ioctl",
	"__sys_connect", "__sys_socketpair", "__do_fault", "handle_mm_fault", "do_page_fault", "page_fault", "__fput",
	"task_work_run", "exit_to_usermode*", "exit_to_user_mode*",
}

// stallFrame picks the frame above the first anchor; when no anchor is
// found it falls back to the first frame.
func stallFrame(frames []string) string {
	if len(frames) == 0 {
		return ""
	}
	prev := frames[0]
	for _, f := range frames {
		if matchAny(f, stallAnchors) || matchAny(syscallName(f), stallAnchors) {
			return prev
		}
		prev = f
	}
	return frames[0]
}

// hangFrame picks the culprit of a hung task: waiters on rtnl_lock and on
// RCU grace periods are grouped, otherwise the first frame that is not
// scheduling, waiting or locking.
func hangFrame(frames []string) string {
	for _, f := range frames {
		switch {
		case strings.HasPrefix(f, "rtnl_lock"):
			return "rtnl_lock"
		case strings.HasPrefix(f, "synchronize_rcu"), strings.HasPrefix(f, "synchronize_srcu"),
			strings.HasPrefix(f, "synchronize_net"), strings.HasPrefix(f, "synchronize_sched"):
			return "synchronize_rcu"
		}
	}
	for _, f := range frames {
		if !matchAny(f, hangSkip) {
			return f
		}
	}
	return ""
}

var hangSkip = []string{"*sched*", "*_lock*", "*_slowlock*", "*down*", "*completion*", "kthread*", "*wait*",
	"*synchronize*", "context_switch", "__switch_to*", "cancel_delayed_work*", "*rwsem*", "*percpu_*", "*io_schedule*",
	"*bit_wait*", "*freezer*", "*futex*"}
