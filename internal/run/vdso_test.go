package run

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/testkernel"
	"github.com/crashrig/crashrig/internal/verdict"
)

// info returns a value a reproducer reported, as an integer.
func info(t *testing.T, r *record.Run, key string) int {
	t.Helper()
	for _, in := range r.Info {
		if in.Key == key {
			n, err := strconv.Atoi(in.Value)
			if err != nil {
				t.Fatalf("%s = %q", key, in.Value)
			}
			return n
		}
	}
	t.Fatalf("no %s in the run's info: %+v", key, r.Info)
	return 0
}

func vdsostack(args ...string) repro.Program { return repro.Program{Builtin: "vdsostack", Args: args} }

// TestVdsoFootprint measures the vDSO's stack footprint on three kernels:
// Debian's and the clean seed kernel pass, the probed one fails.
func TestVdsoFootprint(t *testing.T) {
	clean, probed := testkernel.Seed(t)
	for _, tt := range []struct {
		name, kernel string
		crash        bool
	}{
		{"debian", testkernel.Path(t), false},
		{"seed-clean", clean, false},
		{"seed-probed", probed, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := bootOn(t, tt.kernel, Options{Repro: vdsostack("-mode", "measure"), Duration: time.Minute})
			fp := info(t, res, "vdso_footprint_clock_gettime")
			t.Logf("%s: footprint of clock_gettime %d bytes, verdict %s %q", tt.name, fp, res.Verdict, res.Title)
			if !tt.crash {
				if res.Verdict != verdict.Pass || fp > 64 {
					t.Errorf("verdict %s, footprint %d: want pass and <= 64", res.Verdict, fp)
				}
				return
			}
			if res.Verdict != verdict.Crash || res.Title != "vdso: stack footprint NUM bytes exceeds NUM" || fp < 4096 {
				t.Errorf("verdict %s %q, footprint %d: want the footprint crash and >= 4096", res.Verdict, res.Title, fp)
			}
			if !strings.Contains(res.Kernel.Description, "probed vDSO") {
				t.Errorf("kernel identity %q does not say probed vDSO", res.Kernel.Description)
			}
		})
	}
}

// TestVdsoRace: on the probed kernel, with two vCPUs and multi-threaded
// TCG, the probe loses atomic updates; with GOMAXPROCS=1 it loses none.
func TestVdsoRace(t *testing.T) {
	_, probed := testkernel.Seed(t)
	race := vdsostack("-mode", "race", "-clock", "6", "-funcs", "clock_gettime", "-race-time", "5s")
	res := bootOn(t, probed, Options{Repro: race, Duration: time.Minute, SMP: 2})
	lost := info(t, res, "vdso_lost")
	t.Logf("GOMAXPROCS=2: %d lost, verdict %s %q", lost, res.Verdict, res.Title)
	if res.Verdict != verdict.Crash || res.Title != "vdso: lost updates under stack probe" || lost == 0 {
		t.Errorf("GOMAXPROCS=2: verdict %s %q, %d lost: want lost updates", res.Verdict, res.Title, lost)
	}
	res = bootOn(t, probed, Options{Repro: race, Duration: time.Minute, SMP: 2, Env: []string{"GOMAXPROCS=1"}})
	lost = info(t, res, "vdso_lost")
	t.Logf("GOMAXPROCS=1: %d lost, verdict %s", lost, res.Verdict)
	if res.Verdict != verdict.Pass || lost != 0 {
		t.Errorf("GOMAXPROCS=1: verdict %s, %d lost: want pass and none lost", res.Verdict, lost)
	}
}

// TestGo20427OnProbedKernel records what the story's reproducer does on
// the probed kernel with a modern Go: the runtime calls the vDSO on the
// system stack, so no crash is expected (docs/vdso-stack-probe.md).
func TestGo20427OnProbedKernel(t *testing.T) {
	_, probed := testkernel.Seed(t)
	res := bootOn(t, probed, Options{Repro: repro.Program{Builtin: "go20427"}, Duration: 10 * time.Second, SMP: 2})
	t.Logf("go20427 on the probed kernel: %s %q", res.Verdict, res.Title)
	if res.Verdict != verdict.Pass {
		t.Errorf("verdict %s %q (%s): a modern Go runtime should not crash here", res.Verdict, res.Title, res.Reason)
	}
}

func bootOn(t *testing.T, kernel string, o Options) *record.Run {
	t.Helper()
	o.Kernel = kernel
	o.Accel = "tcg"
	o.LogDir = t.TempDir()
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	checkOffline(t, res)
	return res
}
