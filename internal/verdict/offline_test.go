package verdict

import (
	"testing"
	"time"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// TestFromLog: the verdicts that only markers and the trailer can give — a non-zero
// exit, a hang, a stopped run — come out of a stored log as they did live.
func TestFromLog(t *testing.T) {
	mk := func(name string, kv ...string) string { return marker.Format(name, kv...) + "\n" }
	head := "[    1.700000] Run /init as init process\n" + mk(marker.Init, "up", "1.7") +
		mk(marker.Start, "it", "0", "up", "1.8", "repro", "selftest") + mk(marker.Beat, "it", "0", "up", "2.8", "el", "1")
	trailer := func(stop Stop) string {
		return "\n" + Trailer{Stop: stop, StoppedAt: 2, HangTimeout: 15 * time.Second, Iterations: 1}.Format()
	}
	tests := []struct {
		name, log string
		want      Verdict
		title     string
		ok        bool
	}{
		{"exit 3", head + mk(marker.Exit, "it", "0", "how", "exit", "status", "3", "el", "1.5") + trailer(StopNone), Crash, "exit status 3", true},
		{"hang", head + trailer(StopHang), Hang, "no heartbeat", true},
		{"stopped", head + trailer(StopEarly), Stopped, "", true},
		{"pvpanic, silent console", head + "\n" + Trailer{HangTimeout: 15 * time.Second, Iterations: 1, PVPanic: true}.Format(), Crash, PVPanicTitle, true},
		{"no trailer, no exit: unknown", head, "", "", false},
		{"not a crashrig log", "[    0.000000] Linux version 6.1\n", "", "", false},
		// Logs with no markers at all are still crashrig's when the trailer ends them.
		{"no console output", "\n" + Trailer{Stop: StopBootTimeout, BootTimeout: time.Minute, Iterations: 1}.Format(), BootFail, "no console output", true},
		{"panic before init", "[    1.9] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n" +
			"[    1.9] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0 #1\n\n" + Trailer{Iterations: 1}.Format(),
			BootFail, "kernel panic: VFS: Unable to mount root fs on unknown-block(NUM,NUM)", true},
		{"qemu refused its input", "\n[crashrig: qemu's stderr]\nqemu: linux kernel too old to load a ram disk\n\n" +
			Trailer{QemuCode: 1, Iterations: 1}.Format(), InfraFail, "", true},
		{"qemu killed from outside", head + "\n" + Trailer{QemuCode: -1, QemuSignal: "killed", Iterations: 1}.Format(), InfraFail, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok := FromLog([]byte(tt.log))
			if ok != tt.ok || out.Verdict != tt.want || out.Title != tt.title {
				t.Errorf("FromLog = %v %q (%s), %v; want %v %q, %v", out.Verdict, out.Title, out.Reason, ok, tt.want, tt.title, tt.ok)
			}
		})
	}
}

func TestTrailerRoundTrip(t *testing.T) {
	in := Trailer{Stop: StopEarly, StoppedAt: 2.25, HangTimeout: 15 * time.Second, Iterations: 3, PVPanic: true,
		BootTimeout: time.Minute, QemuCode: -1, QemuSignal: "segmentation fault"}
	got, ok := ParseTrailer([]byte("console text\n" + in.Format()))
	if !ok || got != in {
		t.Errorf("ParseTrailer(Format(%+v)) = %+v, %v", in, got, ok)
	}
}
