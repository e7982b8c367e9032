package console

import (
	"strings"
	"testing"
)

// TestKernelRules gives every kernel rule a minimal report: the header
// line, a faulting function and a short call trace.
func TestKernelRules(t *testing.T) {
	const regs = "RIP: 0010:fault_here+0x1/0x2\nCall Trace:\n <TASK>\n caller_one+0x1/0x2\n caller_two+0x1/0x2\n </TASK>\n"
	tests := []struct {
		header, body, title string
	}{
		{"stack segment: 0000 [#1] PREEMPT SMP KASAN", regs, "stack segment fault in fault_here"},
		{"divide_error: 0000 [#1] PREEMPT SMP", regs, "divide error in fault_here"},
		{"invalid opcode: 0000 [#1] SMP", regs, "invalid opcode in fault_here"},
		{"PANIC: double fault, error_code: 0x0", regs, "PANIC: double fault in fault_here"},
		{"Oops: 0002 [#1] PREEMPT SMP NOPTI", regs, "Oops in fault_here"},
		{"Oops: general protection fault, probably for non-canonical address 0xdffffc0000000002: 0000 [#1] SMP KASAN", regs,
			"general protection fault in fault_here"},
		{"BUG: unable to handle page fault for address: ffffffffffffffd8", regs, "BUG: unable to handle kernel paging request in fault_here"},
		{"Kernel BUG at fault_here+0x1/0x2 [verbose debug info unavailable]", regs, "kernel BUG in fault_here"},
		{"BUG: KFENCE: use-after-free read in kfence_test_uaf+0x1/0x2", "\nUse-after-free read at 0x000000001234 (in kfence-#42):\n", "KFENCE: use-after-free read in kfence_test_uaf"},
		{"BUG: KFENCE: memory corruption in kfree+0x1/0x2", "\nCorrupted memory at 0x1234\n" + strings.TrimPrefix(regs, "RIP: 0010:fault_here+0x1/0x2\n"), "KFENCE: memory corruption in caller_one"},
		{"BUG: KCSAN: data-race in ext4_mark_iloc_dirty / ext4_do_update_inode", "\nwrite to 0xffff8880 of 4 bytes by task 1:\n", "KCSAN: data-race in ext4_mark_iloc_dirty / ext4_do_update_inode"},
		{"BUG: KMSAN: uninit-value in tipc_rcv+0x1/0x2", "\n" + strings.TrimPrefix(regs, "RIP: 0010:fault_here+0x1/0x2\n"), "KMSAN: uninit-value in caller_one"},
		{"BUG: KMSAN: kernel-infoleak in _copy_to_user+0x1/0x2", " _copy_to_user+0x1/0x2\n foo_ioctl+0x1/0x2\n __x64_sys_ioctl+0x1/0x2\n\nUninit was created at:\n kmalloc_trace+0x1/0x2\n",
			"KMSAN: kernel-infoleak in foo_ioctl"},
		{"BUG: KFENCE: out-of-bounds read in strlen+0x1/0x2", "\nOut-of-bounds read at 0x0000000012 (1B right of kfence-#3):\n strlen+0x1/0x2\n foo_parse_name+0x1/0x2\n foo_ioctl+0x1/0x2\n",
			"KFENCE: out-of-bounds read in foo_parse_name"},
		{"WARNING: kernel stack regs at 00000000e3c1f5a4 in Web Content:1234 has bad 'bp' value 0000000000000000", "", "WARNING: kernel stack regs has bad 'bp' value"},
		{"Unhandled fault: page domain fault (0x01b) at 0x00000000", "pgd = c4e6c000\n[00000000] *pgd=00000000\nInternal error: : 1b [#1] SMP ARM\nPC is at foo_ioctl+0x24/0x60\nLR is at vfs_ioctl+0x28/0x44\npc : [<c04a1c2c>]    lr : [<c02b7f0c>]    psr: 60000013\nBacktrace:\n[<c04a1c08>] (foo_ioctl) from [<c02b7f0c>] (vfs_ioctl+0x28/0x44)\n",
			"Unhandled fault in foo_ioctl"},
		{"Unhandled fault: synchronous external abort (0x96000010) at 0xffff000008d3c000", "Internal error: : 96000010 [#1] PREEMPT SMP\nCPU: 1 PID: 90 Comm: repro Not tainted 4.19.0 #1\npc : foo_read+0x1c/0x60\nlr : vfs_read+0x94/0x160\nCall trace:\n foo_read+0x1c/0x60\n vfs_read+0x94/0x160\n",
			"Unhandled fault in foo_read"},
		{"UBSAN: array-index-out-of-bounds in drivers/x/y.c:12:5", "\nindex 9 is out of range for type 'u8 [8]'\n" + regs, "UBSAN: array-index-out-of-bounds in caller_one"},
		{"BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580", "\n" + regs, "BUG: sleeping function called from invalid context in caller_one"},
		{"BUG: scheduling while atomic: repro/77/0x00000002", "\n" + regs, "BUG: scheduling while atomic in caller_one"},
		{"BUG: using smp_processor_id() in preemptible [00000000] code: repro/77", "\n" + regs, "BUG: using smp_processor_id() in preemptible code in caller_one"},
		{"BUG: spinlock bad magic on CPU#0, repro/77", "\n" + regs, "BUG: spinlock bad magic in caller_one"},
		{"BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 32s!", "", "BUG: workqueue lockup"},
		{"BUG: Bad rss-counter state mm:ffff888012345678 type:MM_ANONPAGES val:1", "", "BUG: Bad rss-counter state"},
		{"BUG: stack guard page was hit at ffffc900001b7f98 (stack is ffffc900001b8000..ffffc900001bffff)", regs, "BUG: stack guard page was hit in fault_here"},
		{"kernel BUG at lib/list_debug.c:59!", regs, "BUG: corrupted list in caller_one"},
		{"kernel BUG at mm/usercopy.c:101!", regs, "BUG: bad usercopy in caller_one"},
		{"WARNING: CPU: 1 PID: 7 at kernel/locking/lockdep.c:231 __lock_acquire+0x1/0x2", regs, "WARNING: locking bug in fault_here"},
		{"WARNING: kernel/sched/core.c:1234 at fault_here+0x1/0x2, CPU#1: kworker/1:1/42", regs, "WARNING in fault_here"},
		{"WARNING: suspicious RCU usage", "\n6.1.0 Not tainted\ninclude/linux/rcupdate.h:737 rcu_read_lock() used illegally!\n" + strings.TrimPrefix(regs, "RIP: 0010:fault_here+0x1/0x2\n"), "WARNING: suspicious RCU usage in caller_one"},
		{"INFO: trying to register non-static key.", "\n" + regs, "INFO: trying to register non-static key in caller_one"},
		{"INFO: task repro:77 can't die for more than 143 seconds.", "\n" + regs, "INFO: task can't die in caller_one"},
		{"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: fault_here+0x1/0x2", "", "kernel panic: stack is corrupted in fault_here"},
		{"Kernel panic - not syncing: Fatal exception", "", "kernel panic: Fatal exception"},
		{"Unable to handle kernel NULL pointer dereference at virtual address 0000000000000010", "\npc : fault_here+0x1/0x2\nCall trace:\n caller_one+0x1/0x2\n", "BUG: unable to handle kernel NULL pointer dereference in fault_here"},
		{"Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP", "\npc : fault_here+0x1/0x2\n", "Internal error in fault_here"},
		{"NMI watchdog: Watchdog detected hard LOCKUP on cpu 1", regs, "watchdog: hard lockup in fault_here"},
		{"unregister_netdevice: waiting for lo to become free. Usage count = 2", "", "unregister_netdevice: waiting for DEV to become free"},
		{"VFS: Busy inodes after unmount of loop0 (ext4)", "", "VFS: Busy inodes after unmount (use-after-free)"},
		{"WARNING: at drivers/net/foo.c:123 foo_xmit+0x12/0x30() [foo]", "Call Trace:\n [<ffffffff81234567>] foo_xmit+0x12/0x30 [foo]\n", "WARNING in foo_xmit"},
		{"BUG kmalloc-64 (Tainted: G    B  ): Object already free", "", "BUG: Object already free"},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			var b strings.Builder
			for _, l := range strings.Split(strings.TrimSuffix(tt.header+"\n"+tt.body, "\n"), "\n") {
				b.WriteString("[   10.000000] " + l + "\n")
			}
			log := b.String()
			res := Parse([]byte(log))
			if len(res.Reports) == 0 {
				t.Fatalf("no report in:\n%s", log)
			}
			if got := res.Reports[0].Title; got != tt.title {
				t.Errorf("title %q, want %q (corrupted: %q)", got, tt.title, res.Reports[0].CorruptedReason)
			}
		})
	}
}
