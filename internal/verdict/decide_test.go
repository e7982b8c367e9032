package verdict

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crashrig/crashrig/internal/console"
	"github.com/crashrig/crashrig/reproducer/marker"
)

// mk builds a marker at a log offset and host time.
func mk(off int64, host float64, name string, kv ...string) Marker {
	ev, _ := marker.Parse([]byte(marker.Format(name, kv...)))
	ev.Offset = off
	return Marker{Event: ev, Host: host}
}

var (
	initM  = mk(100, 1.8, marker.Init, "up", "1.6", "kernel", "6.1", "ncpu", "2")
	start0 = mk(200, 1.9, marker.Start, "it", "0", "up", "1.70", "repro", "x")
	beat0  = mk(300, 2.9, marker.Beat, "it", "0", "up", "2.70", "el", "1.0")
)

func exitM(off int64, host float64, kv ...string) Marker {
	return mk(off, host, marker.Exit, append([]string{"it", "0", "up", "5", "el", "3.25"}, kv...)...)
}

func TestDecide(t *testing.T) {
	goCrash := &console.Report{Kind: console.KindGo, Family: "go-panic", Title: "go: panic: boom in main.f", Start: 400, End: 600}
	kpanic := &console.Report{Kind: console.KindKernel, Family: "kernel-panic", Title: "kernel panic: sysrq triggered crash",
		Start: 350, End: 900, KernelTime: 4.2, HasKernelTime: true}
	bootPanic := &console.Report{Kind: console.KindKernel, Title: "kernel panic: VFS: Unable to mount root fs on unknown-block(NUM,NUM)", Start: 50}
	tests := []struct {
		name string
		ev   Evidence
		want Outcome
	}{
		{"pass by duration", Evidence{Iterations: 1, Markers: []Marker{initM, start0, beat0, exitM(500, 5, "how", "duration")}}, Outcome{
			Verdict: Pass, Reason: "1 iteration(s) ran to the end without a crash", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Pass, Ran: 3.25}}}},
		{"go crash with exit", Evidence{Iterations: 1, Console: &console.Result{Reports: []*console.Report{goCrash}},
			ReportHost: func(int64) float64 { return 5.0 },
			Markers:    []Marker{initM, start0, beat0, exitM(700, 5.1, "how", "exit", "status", "2")}}, Outcome{
			Verdict: Crash, Kind: "go", Family: "go-panic", Title: "go: panic: boom in main.f", TimeToCrash: 3.25, HostTTC: 3.1,
			Reason: "go crash report on the console 3.25s after the reproducer started", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "go", Family: "go-panic", Title: "go: panic: boom in main.f", TimeToCrash: 3.25, HostTTC: 3.1, Ran: 3.25}}}},
		{"kernel panic uses kernel time", Evidence{Iterations: 1, Console: &console.Result{Reports: []*console.Report{kpanic}},
			ReportHost: func(int64) float64 { return 4.6 }, Markers: []Marker{initM, start0, beat0}}, Outcome{
			Verdict: Crash, Kind: "kernel", Family: "kernel-panic", Title: "kernel panic: sysrq triggered crash", TimeToCrash: 2.5, HostTTC: 2.7,
			Reason: "kernel crash report on the console 2.50s after the reproducer started", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "kernel", Family: "kernel-panic", Title: "kernel panic: sysrq triggered crash", TimeToCrash: 2.5, HostTTC: 2.7, Ran: 1}}, Signals: []string{"console"}}},
		{"panic seen by the console and pvpanic", Evidence{Iterations: 1, Console: &console.Result{Reports: []*console.Report{kpanic}},
			PVPanic: true, PVPanicHost: 4.7, ReportHost: func(int64) float64 { return 4.6 }, Markers: []Marker{initM, start0, beat0}}, Outcome{
			Verdict: Crash, Kind: "kernel", Family: "kernel-panic", Title: "kernel panic: sysrq triggered crash", TimeToCrash: 2.5, HostTTC: 2.7,
			Reason: "kernel crash report on the console 2.50s after the reproducer started", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "kernel", Family: "kernel-panic", Title: "kernel panic: sysrq triggered crash", TimeToCrash: 2.5, HostTTC: 2.7, Ran: 1}},
			Signals:    []string{"console", "pvpanic"}}},
		// beat0 says 1.0s of the run at host 2.9; the event came at host 4.4: 1.0 + 1.5.
		{"panic seen by pvpanic only", Evidence{Iterations: 1, PVPanic: true, PVPanicHost: 4.4, Markers: []Marker{initM, start0, beat0}}, Outcome{
			Verdict: Crash, Kind: "kernel", Family: "kernel-panic", Title: PVPanicTitle, TimeToCrash: 2.5, HostTTC: 2.5,
			Reason: "qemu's pvpanic device reported a guest panic; the console shows no crash report", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "kernel", Family: "kernel-panic", Title: PVPanicTitle, TimeToCrash: 2.5, HostTTC: 2.5, Ran: 1}},
			Signals:    []string{"pvpanic"}}},
		{"pvpanic before the reproducer", Evidence{Iterations: 1, PVPanic: true, OutputBytes: 100, Markers: []Marker{initM}}, Outcome{
			Verdict: BootFail, Kind: "kernel", Family: "kernel-panic", Title: PVPanicTitle, BootHost: 1.8, BootGuest: 1.6,
			Reason: "qemu's pvpanic device reported a guest panic before the reproducer started; the console shows no crash report",
			Hint:   "boot without quiet and with loglevel=5 or higher to see the panic message", Signals: []string{"pvpanic"}}},
		{"signal without report", Evidence{Iterations: 1, Markers: []Marker{initM, start0, exitM(500, 5.2, "how", "signal", "sig", "SIGSEGV")}}, Outcome{
			Verdict: Crash, Kind: "signal", Family: "signal", Title: "killed by SIGSEGV", TimeToCrash: 3.25, HostTTC: 3.3,
			Reason: "the reproducer died of SIGSEGV after 3.25s without a crash report", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "signal", Family: "signal", Title: "killed by SIGSEGV", TimeToCrash: 3.25, HostTTC: 3.3, Ran: 3.25}}}},
		{"declared failure", Evidence{Iterations: 1, Markers: []Marker{initM, start0, mk(450, 4, marker.Fail, "title", "vdso: stack footprint NUM bytes exceeds NUM"), exitM(500, 5.2, "how", "exit", "status", "1")}}, Outcome{
			Verdict: Crash, Kind: "exit", Family: "declared", Title: "vdso: stack footprint NUM bytes exceeds NUM", TimeToCrash: 3.25, HostTTC: 2.1,
			Reason: "the reproducer printed a fail marker", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "exit", Family: "declared", Title: "vdso: stack footprint NUM bytes exceeds NUM", TimeToCrash: 3.25, HostTTC: 2.1, Ran: 3.25}}}},
		{"hang", Evidence{Iterations: 1, Stop: StopHang, HangTimeout: 15 * time.Second, Markers: []Marker{initM, start0, beat0}}, Outcome{
			Verdict: Hang, Title: "no heartbeat", Reason: "no heartbeat from the guest for 15s (last after 1.0s of the run)", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Hang, Title: "no heartbeat", Ran: 1}}}},
		{"no output at all", Evidence{Iterations: 1, Stop: StopBootTimeout, BootTimeout: time.Minute}, Outcome{
			Verdict: BootFail, Title: "no console output", Reason: "no console output at all within 1m0s",
			Hint: "the kernel printed nothing on ttyS0: it needs CONFIG_SERIAL_8250=y and CONFIG_SERIAL_8250_CONSOLE=y, and console=ttyS0 on its command line (crashrig doctor -k KERNEL checks the config)"}},
		{"panic before init", Evidence{Iterations: 1, OutputBytes: 9000, Console: &console.Result{Reports: []*console.Report{bootPanic}}}, Outcome{
			Verdict: BootFail, Kind: "kernel", Title: bootPanic.Title, Reason: "the guest crashed before the reproducer started: " + bootPanic.Title,
			Hint: "the kernel could not unpack the initramfs: it needs CONFIG_BLK_DEV_INITRD and CONFIG_RD_GZIP (crashrig doctor -k KERNEL)", Signals: []string{"console"}}},
		{"qemu refused the kernel", Evidence{Iterations: 1, QemuCode: 1, QemuStderr: "qemu: linux kernel too old to load a ram disk\n"}, Outcome{
			Verdict: InfraFail, Reason: "qemu exited with status 1: qemu: linux kernel too old to load a ram disk",
			Hint: "the -k file is not a bootable x86 kernel image (arch/x86/boot/bzImage)"}},
		{"qemu killed from outside", Evidence{Iterations: 1, QemuCode: -1, QemuSignal: "killed", Markers: []Marker{initM, start0}}, Outcome{
			Verdict: InfraFail, Reason: "qemu was killed from outside crashrig (signal: killed): (no message)", BootHost: 1.8, BootGuest: 1.6,
			Hint: "look for the host's OOM killer (dmesg) or another process killing qemu"}},
		{"silent KVM", Evidence{Iterations: 1, KVM: true, KVMBroken: "no kernel output within 5s under KVM", Stop: StopBootTimeout}, Outcome{
			Verdict: InfraFail, Reason: "KVM cannot run this guest: no kernel output within 5s under KVM",
			Hint: "use --accel tcg (or --accel auto, which falls back by itself)"}},
		{"guest reset mid-run", Evidence{Iterations: 1, Markers: []Marker{initM, start0, beat0}}, Outcome{
			Verdict: Crash, Kind: "kernel", Family: "kernel-reboot", Title: "unexpected kernel reboot", TimeToCrash: 1,
			Reason: "qemu ended (guest reset or powered off) while the reproducer ran, with no crash report", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "kernel", Family: "kernel-reboot", Title: "unexpected kernel reboot", TimeToCrash: 1, Ran: 1}}}},
		{"stopped early by the caller", Evidence{Iterations: 1, Stop: StopEarly, StoppedAt: 2.5, Markers: []Marker{initM, start0, beat0}}, Outcome{
			Verdict: Stopped, Reason: "stopped after 2.5s of the run, no crash by then: the comparison needed no more", BootHost: 1.8, BootGuest: 1.6,
			Iterations: []Iteration{{Index: 0, Verdict: Stopped, Ran: 2.5}}}},
		{"KVM MSR abort is qemu giving up, not a kill from outside", Evidence{Iterations: 1, KVM: true, QemuSignal: "aborted",
			QemuStderr: "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: kvm.c:3214: Assertion failed.\n"}, Outcome{
			Verdict: InfraFail, Reason: "KVM cannot run this guest: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69",
			Hint: "use --accel tcg (or --accel auto, which falls back by itself)"}},
		{"KVM internal error while qemu stays paused", Evidence{Iterations: 1, KVM: true, Stop: StopHostFault,
			QemuStderr: "KVM internal error. Suberror: 1\nemulation failure\n"}, Outcome{
			Verdict: InfraFail, Reason: "KVM cannot run this guest: KVM internal error. Suberror: 1",
			Hint: "use --accel tcg (or --accel auto, which falls back by itself)"}},
		{"interrupted", Evidence{Iterations: 1, Stop: StopInterrupted, Markers: []Marker{initM, start0}}, Outcome{
			Verdict: Interrupted, Reason: "interrupted before the run ended", BootHost: 1.8, BootGuest: 1.6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.ev)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Outcome{}, "Report"), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIterations(t *testing.T) {
	// Three iterations: pass, a Go crash (the guest goes on), pass.
	goCrash := &console.Report{Kind: console.KindGo, Title: "go: fatal error: concurrent map writes in main.w", Start: 650}
	ms := []Marker{initM, start0, exitM(500, 5, "how", "duration"),
		mk(600, 5.1, marker.Start, "it", "1", "up", "5.1"), mk(800, 6, marker.Exit, "it", "1", "up", "6", "el", "0.9", "how", "exit", "status", "2"),
		mk(900, 6.1, marker.Start, "it", "2", "up", "6.1"), mk(1000, 9, marker.Exit, "it", "2", "up", "9", "el", "3", "how", "duration")}
	got := Decide(Evidence{Iterations: 3, Markers: ms, Console: &console.Result{Reports: []*console.Report{goCrash}}})
	if got.Verdict != Crash || got.Title != goCrash.Title || len(got.Iterations) != 3 {
		t.Fatalf("Decide = %+v", got)
	}
	want := []Verdict{Pass, Crash, Pass}
	for i, it := range got.Iterations {
		if it.Verdict != want[i] || it.Index != i {
			t.Errorf("iteration %d = %+v, want %s", i, it, want[i])
		}
	}
	if got.TimeToCrash != 0.9 {
		t.Errorf("time to crash %v, want 0.9 (from the exit marker of iteration 1)", got.TimeToCrash)
	}
}

func TestExitCodes(t *testing.T) {
	want := map[Verdict]int{Pass: 0, Crash: 1, Hang: 3, BootFail: 4, InfraFail: 5, Interrupted: 130}
	for v, c := range want {
		if v.ExitCode() != c {
			t.Errorf("%s.ExitCode() = %d, want %d", v, v.ExitCode(), c)
		}
	}
}

// TestSeedInit covers the seed story's init.sh: its "Starting test now..."
// and "Test exited with status N after S seconds" lines reach Decide as
// start and exit markers with init=seed and no guest uptime (package
// console), and there are no heartbeats.
func TestSeedInit(t *testing.T) {
	seedStart := mk(200, 2.0, marker.Start, "it", "0", "init", "seed")
	seedExit := func(host float64, status, el string) Marker {
		return mk(700, host, marker.Exit, "it", "0", "how", "exit", "status", status, "el", el, "init", "seed")
	}
	goCrash := &console.Report{Kind: console.KindGo, Family: "go-panic", Title: "go: panic: boom in main.f", Start: 400}
	// A kernel time is since boot; with no guest uptime at the start it
	// cannot give the time to crash, so the host's clock does.
	kpanic := &console.Report{Kind: console.KindKernel, Family: "kernel-panic", Title: "kernel panic: sysrq triggered crash",
		Start: 350, KernelTime: 9.5, HasKernelTime: true}
	tests := []struct {
		name string
		ev   Evidence
		want Outcome
	}{
		{"exit 0", Evidence{Iterations: 1, Markers: []Marker{seedStart, seedExit(32, "0", "30")}}, Outcome{
			Verdict: Pass, Reason: "1 iteration(s) ran to the end without a crash",
			Iterations: []Iteration{{Index: 0, Verdict: Pass, Ran: 30}}}},
		{"exit 3", Evidence{Iterations: 1, Markers: []Marker{seedStart, seedExit(7, "3", "5")}}, Outcome{
			Verdict: Crash, Kind: "exit", Family: "exit", Title: "exit status 3", TimeToCrash: 5, HostTTC: 5,
			Reason:     "the reproducer exited with status 3 after 5.00s",
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "exit", Family: "exit", Title: "exit status 3", TimeToCrash: 5, HostTTC: 5, Ran: 5}}}},
		{"go crash timed by the host", Evidence{Iterations: 1, Console: &console.Result{Reports: []*console.Report{goCrash}},
			ReportHost: func(int64) float64 { return 3.25 }, Markers: []Marker{seedStart, seedExit(3.5, "2", "1")}}, Outcome{
			Verdict: Crash, Kind: "go", Family: "go-panic", Title: goCrash.Title, TimeToCrash: 1.25, HostTTC: 1.25,
			Reason:     "go crash report on the console 1.25s after the reproducer started",
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "go", Family: "go-panic", Title: goCrash.Title, TimeToCrash: 1.25, HostTTC: 1.25, Ran: 1}}}},
		{"kernel panic timed by the host", Evidence{Iterations: 1, Console: &console.Result{Reports: []*console.Report{kpanic}},
			ReportHost: func(int64) float64 { return 6.5 }, Markers: []Marker{seedStart}}, Outcome{
			Verdict: Crash, Kind: "kernel", Family: "kernel-panic", Title: kpanic.Title, TimeToCrash: 4.5, HostTTC: 4.5,
			Reason:     "kernel crash report on the console 4.50s after the reproducer started",
			Iterations: []Iteration{{Index: 0, Verdict: Crash, Kind: "kernel", Family: "kernel-panic", Title: kpanic.Title, TimeToCrash: 4.5, HostTTC: 4.5}}, Signals: []string{"console"}}},
		{"stopped at the run length", Evidence{Iterations: 1, Stop: StopHang, HangTimeout: 30 * time.Second, Markers: []Marker{seedStart}}, Outcome{
			Verdict: Pass, Reason: "1 iteration(s) ran to the end without a crash",
			Iterations: []Iteration{{Index: 0, Verdict: Pass, Ran: 30}}}},
		{"never started", Evidence{Iterations: 1, OutputBytes: 5000, Stop: StopBootTimeout, BootTimeout: time.Minute}, Outcome{
			Verdict: BootFail, Title: "init never reported", Reason: "the kernel printed 5000 bytes but /init never reported within 1m0s",
			Hint: "/init's output goes to the last console= on the kernel command line: it must be ttyS0; the kernel also needs CONFIG_BLK_DEV_INITRD, CONFIG_RD_GZIP and CONFIG_DEVTMPFS (crashrig doctor -k KERNEL)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.ev)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Outcome{}, "Report"), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}
