package console

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/crashrig/crashrig/reproducer/marker"
	"github.com/google/go-cmp/cmp"
)

// TestStreamLive checks what a caller watching a live console sees: a
// crash is noticed as soon as the line holding its header (or, for Go,
// the line confirming it) is complete, even when it arrives in pieces,
// and ReportComplete follows the end-of-trace marker.
func TestStreamLive(t *testing.T) {
	exit := marker.Format(marker.Exit, "it", "0", "how", "exit", "status", "2")
	tests := []struct {
		name     string
		lines    []string
		seenAt   int // index of the line after which CrashSeen must be true
		complete int // index of the line after which ReportComplete must be true (-1: never)
	}{
		{
			name: "kernel warning",
			lines: []string{
				"[    5.000000] ------------[ cut here ]------------",
				"[    5.000001] WARNING: CPU: 0 PID: 1 at drivers/foo/bar.c:123 foo_probe+0x1a/0x40",
				"[    5.000002] RIP: 0010:foo_probe+0x1a/0x40",
				"[    5.000003] Call Trace:",
				"[    5.000004]  really_probe+0x1/0x2",
				"[    5.000005] ---[ end trace 0000000000000000 ]---",
				"[    6.000000] more output",
			},
			seenAt: 1, complete: 5,
		},
		{
			name: "go panic in a child",
			lines: []string{
				"panic: boom",
				"",
				"goroutine 1 [running]:",
				"main.main()",
				"\t/x/main.go:5 +0x1d",
				exit,
			},
			seenAt: 2, complete: 5,
		},
		{
			name:     "kernel panic",
			lines:    []string{"[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)", "[    2.2] CPU: 0 PID: 1"},
			seenAt:   0,
			complete: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, split := range []int{1, 3, 7, 1000} {
				s := NewStream()
				for i, l := range tt.lines {
					data := []byte(l + "\r\n")
					for len(data) > 0 {
						n := min(split, len(data))
						s.Write(data[:n])
						data = data[n:]
						if len(data) > 0 && s.CrashSeen() && i < tt.seenAt {
							t.Fatalf("split %d: CrashSeen before line %d was complete", split, tt.seenAt)
						}
					}
					if got, want := s.CrashSeen(), i >= tt.seenAt; got != want {
						t.Fatalf("split %d: after line %d CrashSeen = %v, want %v", split, i, got, want)
					}
					if got, want := s.ReportComplete(), tt.complete >= 0 && i >= tt.complete; got != want {
						t.Fatalf("split %d: after line %d ReportComplete = %v, want %v", split, i, got, want)
					}
				}
				if res := s.Close(); !res.Crashed {
					t.Fatalf("split %d: no crash in the closed stream", split)
				}
			}
		})
	}
}

// TestTakeMarkers checks markers are handed out once, in order, with
// their line offsets, while broken ones are only counted.
func TestTakeMarkers(t *testing.T) {
	m1 := marker.Format(marker.Init, "up", "1.5")
	m2 := marker.Format(marker.Start, "it", "0", "repro", "x")
	broken := marker.Format(marker.Beat, "it", "0", "el", "1.0")
	broken = broken[:len(broken)-3] + "[   3.000000] interleaved"
	log := "boot\n" + m1 + "\r\n" + "\x1b[2J" + m2 + "\n" + broken + "\n"
	s := NewStream()
	s.Write([]byte(log[:10]))
	if got := s.TakeMarkers(); len(got) != 0 {
		t.Fatalf("markers before any complete marker line: %v", got)
	}
	s.Write([]byte(log[10:]))
	got := s.TakeMarkers()
	want := []marker.Event{
		{Name: marker.Init, Fields: []marker.Field{{Key: "up", Value: "1.5"}}, Offset: 5},
		{Name: marker.Start, Fields: []marker.Field{{Key: "it", Value: "0"}, {Key: "repro", Value: "x"}}, Offset: int64(5 + len(m1) + 2)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("TakeMarkers (-want +got):\n%s", d)
	}
	if more := s.TakeMarkers(); len(more) != 0 {
		t.Fatalf("markers returned twice: %v", more)
	}
	res := s.Close()
	if d := cmp.Diff(want, res.Markers); d != "" {
		t.Errorf("Result.Markers (-want +got):\n%s", d)
	}
	if res.CorruptMarkers != 1 {
		t.Errorf("CorruptMarkers = %d, want 1", res.CorruptMarkers)
	}
}

// TestBoundedMemory floods a Stream with what a misbehaving guest might
// print — binary garbage, 1 MB lines, an endless stream of crash reports
// and Go tracebacks — and checks the live heap stays bounded.
// CONSOLE_FLOOD_MB sets the volume (default 64; the 1 GB run in the
// README used 1024).
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	total := 64 << 20
	if v, err := strconv.Atoi(os.Getenv("CONSOLE_FLOOD_MB")); err == nil {
		total = v << 20
	}
	rnd := rand.New(rand.NewSource(1))
	garbage := make([]byte, 1<<20)
	rnd.Read(garbage)
	long := bytes.Repeat([]byte("x"), 1<<20)
	var oops bytes.Buffer
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&oops, "[ %4d.000000] WARNING: CPU: 0 PID: 1 at x.c:1 f%d+0x1/0x2\n[ %4d.000001] Call Trace:\n", i, i, i)
		for j := 0; j < 50; j++ {
			fmt.Fprintf(&oops, "[ %4d.000002]  g%d+0x1/0x2\n", i, j)
		}
		fmt.Fprintf(&oops, "panic: p%d\n\ngoroutine 1 [running]:\nmain.main()\n\t/m.go:1 +0x1\n", i)
	}
	chunks := [][]byte{garbage, long, []byte("\n"), oops.Bytes()}
	s := NewStream()
	var peak uint64
	var ms runtime.MemStats
	for n, i := 0, 0; n < total; i++ {
		c := chunks[i%len(chunks)]
		s.Write(c)
		n += len(c)
		if i%16 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	res := s.Close()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapAlloc)
	t.Logf("%d MB fed, peak live heap %.1f MiB, %d reports, truncated=%v", total>>20, float64(peak)/(1<<20), len(res.Reports), res.Truncated)
	if peak > 48<<20 {
		t.Errorf("peak live heap %.1f MiB, want <= 48 MiB", float64(peak)/(1<<20))
	}
	if !res.Truncated || len(res.Reports) != maxReports {
		t.Errorf("Truncated = %v with %d reports, want true and %d", res.Truncated, len(res.Reports), maxReports)
	}
}
