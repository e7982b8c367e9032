package console

import (
	"testing"
)

// TestBasic pins the title of small hand-written logs, one per common
// crash kind.
func TestBasic(t *testing.T) {
	tests := []struct {
		name, log, title, family string
	}{
		{
			name:   "go-panic",
			log:    "hello\npanic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.work(...)\n\t/tmp/x/main.go:10\nmain.main()\n\t/tmp/x/main.go:15 +0x1d\nexit status 2\n",
			title:  "go: panic: runtime error: index out of range [NUM] with length NUM in main.work",
			family: "go-panic",
		},
		{
			name:   "go-fatal",
			log:    "fatal error: concurrent map writes\n\ngoroutine 7 [running]:\ninternal/runtime/maps.fatal({0x4b3f2f?, 0x0?})\n\t/usr/local/go/src/runtime/panic.go:1058 +0x18\nmain.writer(0xc000012345)\n\t/tmp/x/main.go:12 +0x45\ncreated by main.main in goroutine 1\n\t/tmp/x/main.go:20 +0x99\n",
			title:  "go: fatal error: concurrent map writes in main.writer",
			family: "go-data-race",
		},
		{
			name:   "go-mid-line",
			log:    "working.....panic: runtime error: slice bounds out of range [:4] with capacity 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/x/main.go:9 +0x1d\n",
			title:  "go: panic: runtime error: slice bounds out of range [:NUM] with capacity NUM in main.main",
			family: "go-panic",
		},
		{
			name: "go-test-panic",
			log: "=== RUN   TestParse\n--- FAIL: TestParse (0.00s)\npanic: boom [recovered]\n\tpanic: boom\n\ngoroutine 7 [running]:\n" +
				"testing.tRunner.func1.2({0x51c2a0, 0x5a1e30})\n\t/usr/local/go/src/testing/testing.go:1545 +0x238\n" +
				"testing.tRunner.func1()\n\t/usr/local/go/src/testing/testing.go:1548 +0x397\n" +
				"panic({0x51c2a0?, 0x5a1e30?})\n\t/usr/local/go/src/runtime/panic.go:914 +0x21f\n" +
				"example.com/m/parser.TestParse(0xc000007860?)\n\t/src/m/parser/parse_test.go:10 +0x25\n" +
				"testing.tRunner(0xc000007860, 0x56d7a8)\n\t/usr/local/go/src/testing/testing.go:1595 +0xff\n" +
				"created by testing.(*T).Run in goroutine 1\n\t/usr/local/go/src/testing/testing.go:1648 +0x3ad\nFAIL\texample.com/m/parser\t0.004s\n",
			title:  "go: panic: boom [recovered] in parser.TestParse",
			family: "go-panic",
		},
		{
			name: "go-test-timeout",
			log: "panic: test timed out after 10m0s\nrunning tests:\n\tTestSlowDial (10m0s)\n\n" +
				"goroutine 34 [running]:\ntesting.(*M).startAlarm.func1()\n\t/usr/local/go/src/testing/testing.go:2259 +0x3b9\n" +
				"created by time.goFunc\n\t/usr/local/go/src/time/sleep.go:176 +0x2d\n",
			title:  "go: panic: test timed out after 10m0s in TestSlowDial",
			family: "go-panic",
		},
		{
			name:  "go-text-only",
			log:   "panic: this is just text\nall good\n",
			title: "",
		},
		{
			name:   "kernel-panic",
			log:    "[    2.000000] Run /init as init process\n[    2.100000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000200\n[    2.100001] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0 #1\n",
			title:  "kernel panic: Attempted to kill init!",
			family: "kernel-init-exit",
		},
		{
			name: "null-deref",
			log: `[   10.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000
[   10.000001] #PF: supervisor read access in kernel mode
[   10.000002] #PF: error_code(0x0000) - not-present page
[   10.000003] PGD 0 P4D 0
[   10.000004] Oops: 0000 [#1] PREEMPT SMP NOPTI
[   10.000005] CPU: 1 PID: 77 Comm: repro Not tainted 6.1.0 #1
[   10.000006] RIP: 0010:my_driver_read+0x12/0x40 [mydrv]
[   10.000007] Code: 00 00 00
[   10.000008] RSP: 0018:ffffc90000123e58 EFLAGS: 00010246
[   10.000009] Call Trace:
[   10.000010]  <TASK>
[   10.000011]  vfs_read+0xa0/0x2c0
[   10.000012]  ksys_read+0x5f/0xe0
[   10.000013]  do_syscall_64+0x3b/0x90
[   10.000014]  entry_SYSCALL_64_after_hwframe+0x63/0xcd
[   10.000015]  </TASK>
[   10.000016] ---[ end trace 0000000000000000 ]---
`,
			title:  "BUG: unable to handle kernel NULL pointer dereference in my_driver_read",
			family: "kernel-oops",
		},
		{
			name: "warning",
			log: `[    5.000000] ------------[ cut here ]------------
[    5.000001] WARNING: CPU: 0 PID: 1 at drivers/foo/bar.c:123 foo_probe+0x1a/0x40
[    5.000002] Modules linked in:
[    5.000003] RIP: 0010:foo_probe+0x1a/0x40
[    5.000004] Call Trace:
[    5.000005]  <TASK>
[    5.000006]  really_probe+0x1/0x2
[    5.000007]  </TASK>
[    5.000008] ---[ end trace 0000000000000000 ]---
`,
			title:  "WARNING in foo_probe",
			family: "kernel-warning",
		},
		{
			name: "gpf",
			log: `[   20.123456] general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP KASAN
[   20.123457] KASAN: null-ptr-deref in range [0x0000000000000000-0x0000000000000007]
[   20.123458] CPU: 0 PID: 5000 Comm: syz-executor.0 Not tainted 6.1.0-syzkaller #0
[   20.123459] RIP: 0010:__list_del_entry_valid+0x28/0x110
[   20.123460] Call Trace:
[   20.123461]  <TASK>
[   20.123462]  tcp_disconnect+0x100/0x1000
[   20.123463]  __x64_sys_shutdown+0x10/0x20
[   20.123464]  </TASK>
`,
			title:  "general protection fault in tcp_disconnect",
			family: "kernel-oops",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Parse([]byte(tt.log))
			title, family := "", ""
			if len(res.Reports) > 0 {
				title, family = res.Reports[0].Title, res.Reports[0].Family
			}
			if title != tt.title || (tt.family != "" && family != tt.family) {
				t.Errorf("got %q (%s), want %q (%s)", title, family, tt.title, tt.family)
				for _, r := range res.Reports {
					t.Logf("report %+v", r)
				}
			}
			if res.Crashed != (title != "") {
				t.Errorf("Crashed = %v with title %q", res.Crashed, title)
			}
		})
	}
}
