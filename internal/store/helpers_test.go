package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/kernel"
	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/verdict"
)

// helperEnv makes the test binary act as a helper process (see TestMain).
const helperEnv = "CRASHRIG_STORE_HELPER"

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(helperMain(h))
	}
	os.Exit(m.Run())
}

func openTest(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tempDB(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "crashrig.db")
	return openTest(t, path), path
}

func testConfig() record.Config {
	return record.Config{
		KernelSHA256: strings.Repeat("ab", 32), KernelPath: "/boot/vmlinuz-6.1.0-56-cloud-amd64",
		KernelVersion: "6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP", KernelLabel: "debian",
		Reproducer: "go20427", ReproArgs: []string{"-goroutines", "64"}, ReproHash: strings.Repeat("cd", 32),
		SMP: 2, Memory: 512, Cmdline: "console=ttyS0 panic=-1", Accel: "auto", QemuVersion: "QEMU emulator version 7.2.15",
		Env: []string{"GOMAXPROCS=2", "GODEBUG=asyncpreemptoff=1"}, Duration: 60, Iterations: 3, Variant: "A",
	}
}

// testResult is a crash in the second of three iterations, as run.Boot
// would return it, with its console log at logPath.
func testResult(logPath string, logBytes int64) *record.Run {
	start := time.Date(2026, 11, 25, 14, 2, 54, 123456789, time.UTC)
	return &record.Run{
		Outcome: verdict.Outcome{
			Verdict: verdict.Crash, Kind: verdict.KindGo, Title: "go: fatal error: concurrent map writes in main.w",
			Family: "go-fatal", Reason: "go crash report on the console 0.90s after the reproducer started",
			TimeToCrash: 0.9, HostTTC: 0.95, BootGuest: 1.6, BootHost: 1.8,
			Iterations: []verdict.Iteration{
				{Index: 0, Verdict: verdict.Pass, Ran: 3.25},
				{Index: 1, Verdict: verdict.Crash, Kind: "go", Title: "go: fatal error: concurrent map writes in main.w",
					Family: "go-fatal", TimeToCrash: 0.9, HostTTC: 0.95, Ran: 0.9},
				{Index: 2, Verdict: verdict.Pass, Ran: 3},
			},
		},
		ID: run.NewID(start), Start: start, Wall: 9.5, Accel: "tcg,thread=multi", AccelNote: "KVM unusable: fell back to TCG",
		Kernel: kernel.Image{Path: "/boot/vmlinuz", SHA256: strings.Repeat("ab", 32), Version: "6.1.0", Release: "6.1.0",
			Protocol: "2.15", Size: 8 << 20},
		Reproducer: "go20427", ReproArgs: []string{"-goroutines", "64"}, Duration: 60, SMP: 2, Memory: 512,
		Cmdline: "console=ttyS0 panic=-1", Initramfs: "/tmp/x.cpio.gz", InitramfsID: strings.Repeat("ef", 32),
		QemuArgv: []string{"qemu-system-x86_64", "-m", "512"}, QemuShell: "qemu-system-x86_64 -m 512",
		QemuVersion: "QEMU emulator version 7.2.15", QemuExit: 0, Log: logPath, LogBytes: logBytes,
		Info: []record.InfoItem{{Key: "goroutines", Value: "64"}}, Host: "testhost", Secondary: []string{"WARNING in foo"},
		Text: "fatal error: concurrent map writes\n", Env: []string{"GOMAXPROCS=2"},
		Timeline: record.Timeline{Init: 1.8, Start: 1.9, CrashLine: 5.0, Decided: 8, QemuExited: 9.5},
	}
}

// consoleLog makes n bytes of console output that compresses like a real
// boot log: timestamped kernel lines with varying numbers and heartbeats.
func consoleLog(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	lines := []string{
		"BIOS-e820: [mem 0x%016x-0x%016x] usable",
		"pci 0000:00:%02x.0: [8086:%04x] type 00 class 0x%06x",
		"ACPI: PM-Timer IO Port: 0x%x",
		"clocksource: tsc: mask: 0x%x max_cycles: 0x%x, max_idle_ns: %d ns",
		"Freeing unused kernel image (initmem) memory: %dK",
		"##crashrig hb it=0 up=%d.%06d el=%d.%06d #%08x",
		"random: crng init done (%d bits)",
		"Run /init as init process (pid %d, %d args)",
	}
	var b strings.Builder
	t := 0.0
	for b.Len() < n {
		t += rng.Float64() * 0.05
		f := lines[rng.IntN(len(lines))]
		args := make([]any, strings.Count(f, "%"))
		for i := range args {
			args[i] = rng.IntN(1 << 20)
		}
		fmt.Fprintf(&b, "[%12.6f] "+f+"\n", append([]any{t}, args...)...)
	}
	return []byte(b.String()[:n])
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
