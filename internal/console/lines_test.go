package console

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePrefix(t *testing.T) {
	type result struct {
		Text  string
		Ctx   string
		TS    float64
		HasTS bool
		Kern  bool
	}
	tests := []struct {
		in   string
		want result
	}{
		{"[   12.345678] BUG: x", result{"BUG: x", "", 12.345678, true, true}},
		{"[   12.345678][  T123] BUG: x", result{"BUG: x", "T123", 12.345678, true, true}},
		{"[   12.345678] [    C1] x", result{"x", "C1", 12.345678, true, true}},
		{"<4>[    0.000000] Linux", result{"Linux", "", 0, true, true}},
		{"** 5 printk messages dropped ** [ 1.5] y", result{"y", "", 1.5, true, true}},
		{"[  T42] no time", result{"no time", "T42", 0, false, true}},
		{"panic: not kernel", result{"panic: not kernel", "", 0, false, false}},
		{"[not a stamp] text", result{"[not a stamp] text", "", 0, false, false}},
		{"<html>", result{"<html>", "", 0, false, false}},
		{"May  1 10:00:00 box kernel: [   12.345678] BUG: x", result{"BUG: x", "", 12.345678, true, true}},
		{"Nov 25 14:05:57 box kernel: general protection fault", result{"general protection fault", "", 0, false, true}},
		{"Nov 25 14:05:57 box node_exporter[812]: fatal error: fault", result{"fatal error: fault", "", 0, false, false}},
		{"Nov 25 14:05:57 box node_exporter[812]: \t/src/x.go:12 +0x1d", result{"\t/src/x.go:12 +0x1d", "", 0, false, false}},
		{"2024-05-01T10:00:00.123456+00:00 box kernel: WARNING: CPU: 0", result{"WARNING: CPU: 0", "", 0, false, true}},
		{"2024-05-01T10:00:00.123456789Z stderr F panic: boom", result{"panic: boom", "", 0, false, false}},
		{"2024-05-01T10:00:00.5Z fatal error: fault", result{"fatal error: fault", "", 0, false, false}},
		{"2024-05-01T10:00:00+0000 box prog[12]: panic: x", result{"panic: x", "", 0, false, false}},
		{"2024-05-01T10:00:00Z goroutine 1 [running]:", result{"goroutine 1 [running]:", "", 0, false, false}},
		{"[Wed May  1 10:00:00 2024] Call Trace:", result{"Call Trace:", "", 0, false, true}},
		{"Hello world, this is a sentence.", result{"Hello world, this is a sentence.", "", 0, false, false}},
	}
	for _, tt := range tests {
		var v view
		parsePrefix(&v, []byte(tt.in))
		got := result{string(v.text), string(v.ctx), v.ts, v.hasTS, v.kern}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("parsePrefix(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

func TestGluedKernelLine(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"hb it=0 el=1[    3.000000] BUG: x", 12},
		{"plain text [1.5] not strict", -1},
		{"[    3.000000] at start is not glued", -1},
	}
	for _, tt := range tests {
		if got := gluedKernelLine([]byte(tt.in)); got != tt.want {
			t.Errorf("gluedKernelLine(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseFrame(t *testing.T) {
	tests := []struct {
		in   string
		fn   string
		kind frameKind
	}{
		{" tcp_disconnect+0x4b3/0x1d80", "tcp_disconnect", goodFrame},
		{" ? poll_initwait+0x50/0x50", "poll_initwait", badFrame},
		{" [<ffffffff8121e5e8>] do_sys_poll+0x2a8/0x5b0", "do_sys_poll", goodFrame},
		{"    [<ffffffff83ed1f75>] kzalloc include/linux/slab.h:680 [inline]", "kzalloc", badFrame},
		{" __dump_stack lib/dump_stack.c:88 [inline]", "__dump_stack", badFrame},
		{" dump_stack_lvl+0xd9/0x1b0 lib/dump_stack.c:106", "dump_stack_lvl", goodFrame},
		{" skb_put.cold+0x24/0x24", "skb_put", goodFrame},
		{" foo+0x1/0x2 [mydrv]", "foo", goodFrame},
		{" <TASK>", "", frameMarker},
		{"[<c0123456>] (sock_poll+0x10/0x20) from [<c0567890>] (do_sys_poll+0x14/0x200)", "sock_poll", goodFrame},
		{"[<c0123456>] (dump_backtrace) from [<c0567890>] (show_stack+0x20/0x24)", "dump_backtrace", goodFrame},
		{"RSP: 0018:ffffc90000123e58 EFLAGS: 00010246", "", notFrame},
		{"Modules linked in:", "", notFrame},
	}
	for _, tt := range tests {
		fn, kind := parseFrame(tt.in)
		if fn != tt.fn || kind != tt.kind {
			t.Errorf("parseFrame(%q) = %q, %v; want %q, %v", tt.in, fn, kind, tt.fn, tt.kind)
		}
	}
}

func TestRIPLine(t *testing.T) {
	tests := []struct {
		in        string
		fn        string
		ok, isRIP bool
	}{
		{"RIP: 0010:my_driver_read+0x12/0x40 [mydrv]", "my_driver_read", true, true},
		{"RIP: 0033:0x7f2b0f27e5fa", "", false, true},
		{"IP: sock_poll+0x61/0x90", "sock_poll", true, true},
		{"RIP: 0010:[<ffffffff81234567>]  [<ffffffff81234567>] old_style+0x1/0x2", "old_style", true, true},
		{"pc : io_uring_cancel_generic+0x3f8/0x5d8", "io_uring_cancel_generic", true, true},
		{"PC is at do_thing+0x1c/0x40", "do_thing", true, true},
		{"RSP: 0018:ffffc90000457d98", "", false, false},
	}
	for _, tt := range tests {
		fn, ok, isRIP := ripLine(tt.in)
		if fn != tt.fn || ok != tt.ok || isRIP != tt.isRIP {
			t.Errorf("ripLine(%q) = %q, %v, %v; want %q, %v, %v", tt.in, fn, ok, isRIP, tt.fn, tt.ok, tt.isRIP)
		}
	}
}
