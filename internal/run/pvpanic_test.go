package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/testkernel"
	"github.com/crashrig/crashrig/internal/verdict"
)

// bootDebug runs a built-in reproducer on the debug kernel, whose pvpanic
// driver is built in (scripts/build-debug-kernel).
func bootDebug(t *testing.T, o Options) *record.Run {
	t.Helper()
	o.Kernel = testkernel.Debug(t)
	o.Accel, o.LogDir, o.Logf = "tcg", t.TempDir(), t.Logf
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("%s: %s %q signals %v (%s) wall %.2f log %s", t.Name(), res.Verdict, res.Title, res.Signals, res.Reason, res.Wall, res.Log)
	checkOffline(t, res)
	return res
}

// TestBootPVPanic: a kernel panic with the console muted (quiet
// loglevel=0: the kernel prints nothing) is still a crash, seen by the
// pvpanic device alone; with the console on, both signals see it; without
// the device, the muted panic is only an unexpected reboot.
func TestBootPVPanic(t *testing.T) {
	sysrq := selftest("-mode", "sysrq", "-after", "1s")
	tests := []struct {
		name      string
		append    string
		noPVPanic bool
		title     string
		signals   []string
	}{
		{"muted console", "quiet loglevel=0", false, verdict.PVPanicTitle, []string{"pvpanic"}},
		{"console and pvpanic", "", false, "kernel panic: sysrq triggered crash", []string{"console", "pvpanic"}},
		{"muted console without pvpanic", "quiet loglevel=0", true, "unexpected kernel reboot", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := bootDebug(t, Options{Repro: sysrq, Duration: 20 * time.Second, Append: tt.append, NoPVPanic: tt.noPVPanic})
			if res.Verdict != verdict.Crash || res.Kind != verdict.KindKernel || res.Title != tt.title || !slices.Equal(res.Signals, tt.signals) {
				t.Fatalf("got %s %s %q signals %v; want crash kernel %q signals %v", res.Verdict, res.Kind, res.Title, res.Signals, tt.title, tt.signals)
			}
			log, err := os.ReadFile(res.Log)
			if err != nil {
				t.Fatal(err)
			}
			if muted := tt.append != ""; muted == strings.Contains(string(log), "Kernel panic") {
				t.Errorf("console muted=%v but the log's panic lines say otherwise:\n%s", muted, log)
			}
			if hasDev := slices.Contains(res.QemuArgv, "pvpanic"); hasDev == tt.noPVPanic {
				t.Errorf("qemu argv %v: pvpanic device present=%v", res.QemuArgv, hasDev)
			}
			// A reset with no signal is timed only by the last heartbeat before it.
			if ttc := res.TimeToCrash; len(tt.signals) > 0 && (ttc < 0.5 || ttc > 3) {
				t.Errorf("time to crash %.2fs, want about 1s", ttc)
			}
		})
	}
}

// TestPVPanicSocketRemoved: the monitor's socket lives in a private
// directory that is gone after the run.
func TestPVPanicSocketRemoved(t *testing.T) {
	res := boot(t, Options{Repro: selftest("-mode", "pass"), Duration: time.Second})
	sock := ""
	for _, a := range res.QemuArgv {
		if p, ok := strings.CutPrefix(a, "socket,id=qmp,path="); ok {
			sock, _, _ = strings.Cut(p, ",")
		}
	}
	if sock == "" {
		t.Fatalf("no QMP socket in %v", res.QemuArgv)
	}
	dir := sock[:strings.LastIndexByte(sock, '/')]
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after the run (%v)", dir, err)
	}
	if res.Verdict != verdict.Pass || len(res.Signals) != 0 {
		t.Errorf("got %s %q signals %v, want a pass", res.Verdict, res.Title, res.Signals)
	}
}

// TestBootPVPanicModules: Debian's cloud kernel has the pvpanic driver as
// a module; with --modules the image carries it, /init loads it, and the
// muted panic is seen. Without it the same panic is only a reboot.
func TestBootPVPanicModules(t *testing.T) {
	k := testkernel.Path(t)
	mods := filepath.Join(filepath.Dir(filepath.Dir(k)), "lib", "modules")
	ents, err := os.ReadDir(mods)
	if err != nil || len(ents) != 1 {
		t.Fatalf("no modules beside the test kernel in %s (scripts/fetch-test-kernel keeps them): %v", mods, err)
	}
	sysrq := selftest("-mode", "sysrq", "-after", "1s")
	for _, withMods := range []bool{true, false} {
		t.Run(fmt.Sprintf("modules=%v", withMods), func(t *testing.T) {
			o := Options{Repro: sysrq, Duration: 20 * time.Second, Append: "quiet loglevel=0"}
			if withMods {
				o.Modules = filepath.Join(mods, ents[0].Name())
			}
			res := boot(t, o)
			want, signals := "unexpected kernel reboot", []string(nil)
			if withMods {
				want, signals = verdict.PVPanicTitle, []string{"pvpanic"}
			}
			if res.Verdict != verdict.Crash || res.Title != want || !slices.Equal(res.Signals, signals) {
				t.Fatalf("got %s %q signals %v, want crash %q signals %v", res.Verdict, res.Title, res.Signals, want, signals)
			}
			var loaded []string
			for _, in := range res.Info {
				if in.Key == "status" && in.Value == "loaded" {
					loaded = append(loaded, in.Value)
				}
			}
			if withMods && len(loaded) != 2 {
				t.Errorf("info %v: want both modules loaded", res.Info)
			}
		})
	}
}
