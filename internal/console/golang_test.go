package console

import "testing"

func TestGoFamily(t *testing.T) {
	tests := []struct{ hdr, signal, want string }{
		{"panic: boom", "", famPanic},
		{"panic: runtime error: invalid memory address or nil pointer dereference", "SIGSEGV", famSignal},
		{"panic: runtime error: integer divide by zero", "SIGFPE", famPanic},
		{"fatal error: unexpected signal during runtime execution", "SIGSEGV", famSignal},
		{"fatal error: fault", "SIGSEGV", famSignal},
		{"unexpected fault address 0x0", "", famSignal},
		{"SIGSEGV: segmentation violation", "", famSignal},
		{"SIGQUIT: quit", "", famFatal},
		{"fatal error: found bad pointer in Go heap (incorrect use of unsafe or cgo?)", "", famCorruption},
		{"fatal error: span has no free space", "", famCorruption},
		{"fatal error: unsafe.Slice: len out of range", "", famCorruption},
		{"fatal: morestack on g0", "", famCorruption},
		{"panic during panic", "", famCorruption},
		{"fatal error: runtime: out of memory", "", famOOM},
		{"fatal error: out of memory", "", famOOM},
		{"fatal error: thread exhaustion", "", famOOM},
		{"fatal error: stack overflow", "", famStack},
		{"fatal error: all goroutines are asleep - deadlock!", "", famDeadlock},
		{"fatal error: concurrent map read and map write", "", famDataRace},
		{"fatal error: sync: unlock of unlocked mutex", "", famFatal},
	}
	for _, tt := range tests {
		if got := goFamily(tt.hdr, tt.signal); got != tt.want {
			t.Errorf("goFamily(%q, %q) = %s, want %s", tt.hdr, tt.signal, got, tt.want)
		}
	}
}

// TestGoNotCrashes lists output that looks like a Go crash but is not.
func TestGoNotCrashes(t *testing.T) {
	logs := []string{
		"panic: printed by the program\nall is well\n",
		"log line\npanic: x\n" + "more output\n",
		"fatal error: a message the program printed\n\tindented detail\n",
		"\tpanic: indented is a nested panic line, never a start\n",
		"my_panic: not a header\nxpanic: neither\n",
	}
	for _, l := range logs {
		if res := Parse([]byte(l)); res.Crashed {
			t.Errorf("crash %q found in %q", res.Reports[0].Title, l)
		}
	}
}

func TestShortFunc(t *testing.T) {
	tests := []struct{ in, want string }{
		{"main.main", "main.main"},
		{"github.com/prometheus/node_exporter/collector.(*meminfoCollector).Update", "collector.(*meminfoCollector).Update"},
		{"gopkg.in/yaml.v3.(*decoder).unmarshal", "yaml.v3.(*decoder).unmarshal"},
		{"example.com/m.F[...]", "m.F[...]"},
	}
	for _, tt := range tests {
		if got := shortFunc(tt.in); got != tt.want {
			t.Errorf("shortFunc(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
