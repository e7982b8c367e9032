package console

import (
	"regexp"
	"strings"
)

// Kernel stack frames as printed by the kernel (x86 and arm64 mostly):
//
//	 foo+0x1a/0x40
//	 ? foo+0x1a/0x40                       (unreliable: ignored)
//	 [<ffffffff81234567>] foo+0x1a/0x40     (older kernels, kmemleak)
//	 foo+0x1a/0x40 [module]
//	 foo+0x1a/0x40 mm/foo.c:123             (symbolised)
//	 foo mm/foo.c:123 [inline]              (symbolised inline frame: not used for titles)
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
	if strings.HasPrefix(t, "(") {
		// arm: "[<c0123456>] (foo+0x10/0x20) from [<c0567890>] (bar+0x14/0x20)".
		if e := strings.IndexAny(t, "+)"); e > 1 && strings.Contains(t, ") from ") {
			name := t[1:e]
			if _, ok := funcToken(name + "+0x0/0x0"); ok {
				if k := strings.IndexByte(name, '.'); k > 0 {
					name = name[:k]
				}
				return name, kind
			}
		}
		return "", notFrame
	}
	fn, ok := funcToken(t)
	if !ok {
		return "", notFrame
	}
	if !strings.Contains(t, "+0x") {
		// A symbolised inline frame ("foo mm/x.c:12 [inline]") names a
		// function that was compiled into its caller, which the next
		// frame names: syzbot's titles never use inline frames.
		kind = badFrame
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

// ripLine parses a faulting-instruction line ("RIP: 0010:f+0x1a/0x40",
// "pc : f+0x1a/0x40", "PC is at f+0x..", "NIP [c0000000001234] f+0x..",
// "IP: [<ffffffff>] f+0x.."): isRIP says the line is one, ok that it
// names a kernel function (a user-space "RIP: 0033:0x7f12..." does not).
func ripLine(s string) (fn string, ok, isRIP bool) {
	t := strings.TrimLeft(s, " \t")
	var rest string
	for _, p := range []string{"RIP: ", "EIP: ", "IP: ", "pc : ", "PC is at ", "NIP: ", "NIP ", "epc : "} {
		if strings.HasPrefix(t, p) {
			rest, isRIP = t[len(p):], true
			break
		}
	}
	if !isRIP {
		return "", false, false
	}
	rest = strings.TrimLeft(rest, " ")
	// "0010:" segment selector.
	if c := strings.IndexByte(rest, ':'); c > 0 && c <= 4 && allDigitsStr(rest[:c]) {
		rest = rest[c+1:]
	}
	rest = skipAddrs(rest)
	if strings.HasPrefix(rest, "[") {
		if i := strings.Index(rest, "] "); i >= 0 {
			rest = strings.TrimLeft(rest[i+2:], " ")
		}
	}
	fn, ok = funcToken(rest)
	return fn, ok, true
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
	if !strings.Contains(t, "+0x") {
		return "", false // a symbolised inline function: its caller follows
	}
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

// Frames that are never the culprit: reporting machinery, sanitizers,
// allocation, locking, memory and string helpers, generic teardown. Each
// entry is a regular expression matched anywhere in the function name, so
// "spin_lock" covers _raw_spin_lock_irqsave too; "^...$" anchors it.
var commonSkip = []string{
	// Reporting and trap handling.
	"panic", "dump_stack", "show_stack", "walk_stack", "dump_backtrace", "printk", "va_format",
	"warn_slowpath", "warn_alloc", "warn_bogus", "__warn", "report_bug", "fixup_bug", "invalid_op",
	"do_error", "_trap$|do_trap", "print_report", "print_usage_bug", "print_address_description",
	"print_tainted", "^get_taint$", "hex_dump_to_buffer", "print_hex_dump", "program_check_exception",
	"program_check_common", "do_(kernel|translation)_fault", "do_mem_abort", "el1_abort",
	"el1h_64_sync(?:_handler)?", "assertfail", "__fortify_report",
	"stack_trace_consume_entry", "arch_stack_walk", "stack_trace_save",
	// Fault injection: the failing allocation's own machinery.
	"^_*should_fail", "^fail_dump$",
	// Lockdep printing and checking its dependency graph.
	"print_circular_bug", "check_noncircular", "check_prevs?_add", "validate_chain", "print_deadlock_bug",
	"check_deadlock", "print_bad_irq_dependency", "check_irq_usage", "print_irq_inversion_bug",
	"check_usage_(?:forwards|backwards)", "mark_lock_irq", "^valid_state$", "print_lock_class_header",
	"print_held_locks_bug", "debug_check_no_locks", "^hlock_class$", "^lock_is_held",
	// Scheduler switch frames, at the bottom of every sleeping task's stack.
	"^__switch_to", "finish_task_switch", "^context_switch$",
	// IRQ and softirq entry: the dispatcher, not the handler it called.
	"^_*handle_irq(?:_event|_event_percpu|_desc)?$", "^generic_handle_(?:domain_)?irq", "^__?common_interrupt$", "^asm_common_interrupt$", "^_*sysvec_", "^asm_sysvec_",
	"irq_exit", "^_*do_softirq$", "^handle_softirqs$", "^invoke_softirq$", "^do_IRQ$",
	// Sanitizers and debugging helpers.
	"__sanitizer", "__asan", "kasan", "hwasan", "__msan", "kmsan", "kcsan_setup_watchpoint",
	"check_memory_region", "check_heap_object", "check_object", "read_word_at_a_time",
	"(read|write)_once_.*nocheck", "debug_object", "timer_is_static_object", "work_is_static_object",
	// Allocation.
	"alloc_page", "k?v?(?:m|z|c)alloc", "krealloc", "kmem_cache", "allocate_slab", "__alloc_frozen_pages",
	"folio_(?:alloc|unlock)", "filemap_alloc_folio", "__filemap_get_folio", "find_or_create_page",
	"do_read_cache_folio", "read_cache_page", "pagecache_get_page", "grab_cache_page_write_begin", "slab_",
	"^kv?free$", "kfree_skb", "memdup", "strdup", "strndup",
	// Locking, atomics and reference counts.
	"lockdep", "lock_acquire", "lock_release", "lock_class", "mark_lock", "(reacquire|mark)_held_locks",
	"print_unlock", "imbalance_bug", "bh_enable", "bh_disable", "perf_trace", "raw_spin_rq", "spin_lock",
	"spin_trylock", "spin_unlock", "read_lock", "read_trylock", "write_lock", "write_trylock", "read_unlock",
	"write_unlock", "^down$", "down_read", "down_write", "down_trylock", "up_read", "up_write", "^mutex_",
	"^__mutex_", "^rt_mutex_", "owner_on_cpu", "osq_lock", "osq_unlock",
	"atomic(64)?_(dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)", "(set|clear|change|test)_bit",
	"__wake_up", "^refcount_", "^kref_", "ref_tracker", "seqprop_assert", "(trace|lockdep)_(hard|soft)irq",
	"^(un)?lock_page", "__might_fault", "might_fault", "might_sleep", "__might_resched",
	// Memory, strings, user copies, lists and trees.
	"memcpy", "memcmp", "memset", "memchr", "memmove", "strcmp", "strncmp", "strcpy", "strlcpy", "strncpy",
	"strscpy", "strlen", "strstr", "strnstr", "strnlen", "strchr", "string", "pointer", "snprintf",
	"scnprintf", "kasprintf", "kvasprintf", "copy_to_user", "copy_from_user", "copy_to_iter",
	"copy_from_iter", "copy_page_to_iter", "copy_page_from_iter", "copy_folio_to_iter", "^copyin$",
	"^copyout$", "put_user", "get_user", "list_add", "list_del", "list_replace", "list_move", "list_splice",
	"^rb_", "^__rb_", "^klist_", "xas_(?:start|load|find)", "rhashtable_lookup", "extract_(user|iter)_to_sg",
	"_indirect_thunk_", "__phys_addr", "^crc\\d+", "crc_itu_t",
	"readb$", "readw$", "readl$", "readq$", "writeb$", "writew$", "writel$", "writeq$", "logic_in", "logic_out",
	// Device printing and generic teardown that waits for the real culprit.
	"dev_info", "dev_notice", "dev_warn", "dev_err", "dev_alert", "dev_crit", "dev_emerg",
	"del_timer", "lock_timer_base", "__timer_delete_sync", "sk_stop_timer_sync", "__mod_timer", "flush_work",
	"__cancel_work_timer", "cancel_work_sync", "try_to_grab_pending", "flush_workqueue", "drain_workqueue",
	"destroy_workqueue", "queue_work", "insert_work", "__queue_delayed_work", "queue_delayed_work_on",
	"finish_wait", "^complete$", "wait_for_completion", "kthread_stop", "kobject_", "add_uevent_var",
	"get_device_parent", "device_add", "device_del", "device_unregister", "device_destroy", "device_release",
	"devres_release_all", "^put_device$", "device_for_each_child", "device_remove_file", "hwrng_unregister",
	"i2c_del_adapter", "__unregister_client", "rollback_registered", "unregister_netdev", "sysfs_remove",
	"tty_unregister_device", "dummy_urb_enqueue", "usb_kill_urb", "usb_kill_anchored_urbs", "usb_control_msg",
	"usb_hcd_submit_urb", "usb_submit_urb", "^iput$", "^iput_final$", "^ihold$", "ida_free",
	"find_lock_entries", "truncate_inode_pages_range", "cleanup_srcu_struct", "drop_nlink", "fast_dput", "dput",
}

// skipper compiles the common skip list plus a format's own.
func skipper(extra []string) *regexp.Regexp {
	return regexp.MustCompile(strings.Join(append(append([]string{}, commonSkip...), extra...), "|"))
}

var defaultSkip = skipper(nil)

// frameStripPrefixes are syscall wrapper and entry prefixes: a frame is
// titled by the shortest name obtained by removing one of them, so
// __x64_sys_ioctl, __se_sys_ioctl and __do_sys_ioctl name one place.
var frameStripPrefixes = []string{
	"SYSC_", "SyS_", "sys_", "__x64_", "__ia32_", "__arm64_", "____sys_", "___sys_", "__sys_", "__se_",
	"__se_sys_", "__do_sys_", "compat_SYSC_", "compat_SyS_", "ksys_",
}

// stripFrame returns the canonical name of a frame.
func stripFrame(fn string) string {
	best := fn
	for _, p := range frameStripPrefixes {
		if t := strings.TrimPrefix(fn, p); len(t) < len(best) && t != "" {
			best = t
		}
	}
	return best
}

// Stall anchors: functions that dispatch work. A loop caught by a stall
// or lockup detector is named by the frame just above the first anchor
// (the syscall, work item or timer that loops), not by the random place
// where the interrupt caught it. Matched against stripped frame names.
var stallAnchors = regexp.MustCompile(strings.Join([]string{
	"process_one_work", "do_syscall_", "do_fast_syscall_", "sysenter_dispatch", "tracesys_phase2",
	"el0_svc_handler", "invoke_syscall", "ret_fast_syscall", "netif_receive_skb", "do_softirq",
	"call_timer_fn", "_run_timers", "run_timer_softirq", "hrtimer_run", "run_ksoftirqd", "smpboot_thread_fn",
	"^kthread$", "start_secondary", "cpu_startup_entry", "ret_from_fork",
	"vfs_write", "vfs_read", "vfs_iter_read", "vfs_iter_write", "do_iter_read", "do_iter_write",
	"call_read_iter", "call_write_iter", "new_sync_read", "new_sync_write", "vfs_ioctl", "ksys_ioctl",
	"compat_ioctl", "compat_sys_ioctl", "blkdev_driver_ioctl", "blkdev_ioctl", "do_iter_readv_writev",
	"^call_mmap", "mmap_region", "do_mmap", "do_dentry_open", "vfs_open",
	"^sock_sendmsg", "^sock_recvmsg", "^sock_release", "^__sock_release", "^setsockopt$", "kernel_setsockopt",
	"sock_common_setsockopt", "^listen$", "kernel_listen", "sk_common_release", "^sock_mmap", "^accept$",
	"kernel_accept", "^sock_do_ioctl", "^sock_ioctl", "^compat_sock_ioctl", "^nfnetlink_rcv_msg",
	"^rtnetlink_rcv_msg", "^netlink_dump", "^(sys_)?(socketpair|connect|ioctl)",
	"__do_fault", "do_page_fault", "^page_fault$", "__fput", "task_work_run", "exit_to_usermode",
	"smp_call_function", "tasklet_action", "tasklet_hi_action",
}, "|"))

// isStallStart recognises the line after which a lockup or stall report
// prints the interrupted context: a stack frame of the timer interrupt that
// caught the loop, or an "<EOI>"/"Exception stack" marker. lockdep's "irq
// event stamp" lines ("hardirqs last enabled at (..): [<..>]
// asm_sysvec_apic_timer_interrupt+0x16/0x20") name the timer interrupt too
// but precede the registers: they are not a start.
func isStallStart(t string) bool {
	if strings.Contains(t, "<EOI>") || strings.Contains(t, "Exception stack") {
		return true
	}
	if !strings.Contains(t, "apic_timer_interrupt") && !strings.Contains(t, "el1h_64_irq") {
		return false
	}
	_, kind := parseFrame(t)
	return kind == goodFrame || kind == badFrame
}

// stallFrame picks the frame above the first anchor (frames are already
// stripped and filtered); with no anchor it falls back to the first frame.
func stallFrame(frames []string) string {
	if len(frames) == 0 {
		return ""
	}
	prev := frames[0]
	for _, f := range frames {
		if stallAnchors.MatchString(f) {
			if strings.Contains(f, "smp_call_function") {
				return "smp_call_function"
			}
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
		case strings.Contains(f, "rtnl_lock"):
			return f
		case strings.Contains(f, "synchronize_rcu"), strings.Contains(f, "synchronize_srcu"),
			strings.Contains(f, "synchronize_net"), strings.Contains(f, "synchronize_sched"):
			return "synchronize_rcu"
		}
	}
next:
	for _, f := range frames {
		for _, w := range hangSkip {
			if strings.Contains(f, w) {
				continue next
			}
		}
		return f
	}
	return ""
}

var hangSkip = []string{"sched", "_lock", "_slowlock", "down", "rwsem", "completion", "kthread", "wait",
	"synchronize", "context_switch", "__switch_to", "cancel_delayed_work", "rcu_barrier"}
