package console

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"index out of range [5] with length 3", "index out of range [NUM] with length NUM"},
		{"unexpected fault address 0xdeadbeef000", "unexpected fault address ADDR"},
		{"KASAN: use-after-free Read in foo+0x1a/0x40", "KASAN: use-after-free Read in foo"},
		{"kernel BUG at mm/slub.c:4242!", "kernel BUG at mm/slub.c:LINE!"},
		{"UBSAN: shift-out-of-bounds in net/ipv4/tcp.c:3401:23", "UBSAN: shift-out-of-bounds in net/ipv4/tcp.c:LINE"},
		{"BUG: spinlock bad magic on CPU#1, repro/77", "BUG: spinlock bad magic on CPU, repro/NUM"},
		{"object ffff88807c1d2a08 freed", "object ADDR freed"},
		{"connect to 10.0.2.15 failed", "connect to IP failed"},
		{"ext4_fill_super sha256 e1000_xmit_frame x86_64", "ext4_fill_super sha256 e1000_xmit_frame x86_64"},
		{"took 1.5 seconds, 3com card, 2nd try", "took NUM.NUM seconds, 3com card, 2nd try"},
		{"deadbeef cafe 123abc", "deadbeef cafe ADDR"},
		{"unknown-block(0,0)", "unknown-block(NUM,NUM)"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeTitle(t *testing.T) {
	long := "go: panic: "
	for len(long) < 200 {
		long += "é-long message "
	}
	tests := []struct{ in, want string }{
		{"a\tb  c\n", "a b c"},
		{"ctl\x01\x7fchars", "ctlchars"},
		{"  lead", "lead"},
	}
	for _, tt := range tests {
		if got := sanitizeTitle(tt.in); got != tt.want {
			t.Errorf("sanitizeTitle(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	got := sanitizeTitle(long)
	if len(got) > maxTitleLen {
		t.Errorf("title of %d bytes, want <= %d", len(got), maxTitleLen)
	}
	for _, r := range got {
		if r == 0xfffd {
			t.Errorf("title cut inside a character: %q", got)
		}
	}
}

func TestStripFrame(t *testing.T) {
	tests := []struct{ in, want string }{
		{"__x64_sys_ioctl", "sys_ioctl"},
		{"__do_sys_mount", "mount"},
		{"__se_sys_mount", "mount"},
		{"__sys_sendmsg", "sendmsg"},
		{"ksys_write", "write"},
		{"tcp_disconnect", "tcp_disconnect"},
	}
	for _, tt := range tests {
		if got := stripFrame(tt.in); got != tt.want {
			t.Errorf("stripFrame(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
