//go:build linux && amd64

package vdsostack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/reproducer/marker"
	"github.com/google/go-cmp/cmp"
)

// TestMain dispatches by argv[0] as the guest binary does, so the footprint
// search can re-execute the test binary as "vdsostack -probe-func ...".
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "vdsostack" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runMain runs the reproducer in-process and returns its exit code, its
// output and the info fields and fail title it printed.
func runMain(t *testing.T, args ...string) (code int, out string, info map[string]string, title string) {
	t.Helper()
	var buf bytes.Buffer
	code = run(context.Background(), args, &buf)
	info = make(map[string]string)
	for line := range strings.Lines(buf.String()) {
		ev, st := marker.Parse([]byte(strings.TrimSuffix(line, "\n")))
		switch {
		case st == marker.Corrupt:
			t.Errorf("corrupt marker %q", line)
		case st == marker.OK && ev.Name == marker.Info:
			for _, f := range ev.Fields {
				info[f.Key] = f.Value
			}
		case st == marker.OK && ev.Name == marker.Fail:
			title = ev.Get("title")
		}
	}
	t.Logf("vdsostack %s -> %d\n%s", strings.Join(args, " "), code, buf.String())
	return code, buf.String(), info, title
}

func TestHostVDSOMeasure(t *testing.T) {
	code, _, info, title := runMain(t, "-mode", "measure")
	if code != exitPass || title != "" {
		t.Fatalf("exit %d, title %q; want a pass on the host's stock vDSO", code, title)
	}
	for _, fn := range []string{"clock_gettime", "gettimeofday", "time"} {
		var n int
		if _, err := fmt.Sscan(info["vdso_footprint_"+fn], &n); err != nil || n < 16 || n > 64 || n%16 != 0 {
			t.Errorf("vdso_footprint_%s = %q, want a multiple of 16 in [16, 64]", fn, info["vdso_footprint_"+fn])
		}
	}
}

func TestSimMeasureIsExact(t *testing.T) {
	// simProbe touches SP-4136 and writes only its return address.
	code, _, info, title := runMain(t, "-sim", "-mode", "measure")
	if code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
	if want := "vdso: stack footprint 4144 bytes exceeds 104"; title != want {
		t.Errorf("title %q, want %q", title, want)
	}
	if info["vdso_footprint_sim"] != "4144" || info["vdso_written_sim"] != "8" {
		t.Errorf("footprint %q written %q, want 4144 and 8", info["vdso_footprint_sim"], info["vdso_written_sim"])
	}
	// The limit counts bytes below the return address: 4144-8 passes 4136.
	if code, _, _, title := runMain(t, "-sim", "-mode", "measure", "-headroom", "4136"); code != exitPass {
		t.Errorf("-headroom 4136: exit %d (%q), want a pass", code, title)
	}
}

func TestHostVDSORaceLosesNothing(t *testing.T) {
	code, _, info, title := runMain(t, "-mode", "race", "-race-time", raceTime())
	if code != exitPass || info["vdso_lost"] != "0" {
		t.Errorf("exit %d, title %q, lost %q; want a pass with 0 lost", code, title, info["vdso_lost"])
	}
	if info["vdso_race_calls_clock_gettime"] == "" || info["vdso_race_calls_clock_gettime"] == "0" {
		t.Errorf("no calls recorded: %q", info["vdso_race_calls_clock_gettime"])
	}
}

// TestSimRaceLosesUpdates is the positive control and the story's clue:
// the built-in probe loses increments when two threads run Go code at
// once, and none with GOMAXPROCS=1. On a busy host the two threads may
// seldom run at the same time, so the lossy case gets a few tries.
func TestSimRaceLosesUpdates(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs 2 CPUs")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var code int
	var info map[string]string
	var title string
	for try := 0; try < 10; try++ {
		code, _, info, title = runMain(t, "-sim", "-mode", "race", "-race-time", "500ms")
		if info["vdso_lost"] != "0" {
			break
		}
	}
	if code != exitFail || title != "vdso: lost updates under stack probe" || info["vdso_lost"] == "0" {
		t.Errorf("GOMAXPROCS=2: exit %d, title %q, lost %q; want lost updates", code, title, info["vdso_lost"])
	}
	if at := info["vdso_lost_at_sim"]; at != "4136" {
		t.Errorf("lost at %q, want only the probed word 4136", at)
	}
	runtime.GOMAXPROCS(1)
	code, _, info, _ = runMain(t, "-sim", "-mode", "race", "-race-time", raceTime())
	if code != exitPass || info["vdso_lost"] != "0" {
		t.Errorf("GOMAXPROCS=1: exit %d, lost %q; want 0", code, info["vdso_lost"])
	}
}

func raceTime() string {
	if testing.Short() {
		return "300ms"
	}
	return "2s"
}

func TestSearch(t *testing.T) {
	for _, need := range []int{16, 32, 48, 4160, 8256, 65536} {
		t.Run(fmt.Sprint(need), func(t *testing.T) {
			fp, err := search(65536, func(h int) (bool, int, error) { return h >= need, 40, nil })
			if err != nil || fp.bytes != need || fp.over || fp.written != 40 || fp.probes != 13 {
				t.Errorf("got %+v, %v; want %d bytes in 13 probes", fp, err, need)
			}
		})
	}
	fp, _ := search(65536, func(h int) (bool, int, error) { return false, 0, nil })
	if !fp.over || fp.bytes != 65552 || fp.probes != 1 {
		t.Errorf("never survives: got %+v, want over with 65552", fp)
	}
}

func TestWindow(t *testing.T) {
	tests := []struct {
		footprint, written int
		want               []int
	}{
		// Stock vDSO: only the two controls below the frame.
		{48, 40, []int{64, 56}},
		// The seed's probe on the hv kernel: slots at 4192 and 4152 below
		// a 72-byte frame.
		{4192, 72, []int{4208, 4200, 4192, 4184, 4176, 4168, 4160, 4152, 4144, 4136, 4128}},
		// -sim: one slot at 4136.
		{4144, 8, []int{4160, 4152, 4144, 4136, 4128, 4120, 4112, 4104, 4096, 4088, 4080}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, window(tt.footprint, tt.written)); diff != "" {
			t.Errorf("window(%d, %d) (-want +got):\n%s", tt.footprint, tt.written, diff)
		}
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name  string
		fps   []footprint
		races []raceResult
		want  string
	}{
		{"stock", []footprint{{bytes: 48}}, []raceResult{{}}, ""},
		{"at the limit", []footprint{{bytes: 112}}, nil, ""},
		{"over the limit", []footprint{{bytes: 128}}, nil, "vdso: stack footprint 128 bytes exceeds 104"},
		{"probe", []footprint{{bytes: 32}, {bytes: 4160}}, []raceResult{{lost: 5}}, "vdso: stack footprint 4160 bytes exceeds 104"},
		{"beyond the search", []footprint{{bytes: 65552, over: true}}, nil, "vdso: stack footprint 65552 bytes exceeds 104"},
		{"race only", nil, []raceResult{{}, {lost: 1}}, "vdso: lost updates under stack probe"},
		{"plain store", nil, []raceResult{{gained: 3}}, "vdso: call overwrote stack beyond its frame"},
	}
	for _, tt := range tests {
		if got := judge(tt.fps, tt.races, 104); got != tt.want {
			t.Errorf("%s: judge = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "fast"},
		{"-funcs", "clock_gettime,nosuch"},
		{"-max-height", "100"},
		{"-race-time", "0s"},
		{"extra"},
		{"-nosuch"},
	} {
		if code, _, _, _ := runMain(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestChildProbeErrors(t *testing.T) {
	try := childProbe(context.Background(), "clock_gettime", 1)
	if _, _, err := try(100); err == nil || !strings.Contains(err.Error(), "bad probe") {
		t.Errorf("height 100: err %v, want a bad-probe error", err)
	}
	start := time.Now()
	ok, w, err := try(4096)
	if !ok || err != nil || w == 0 {
		t.Errorf("height 4096: ok %v, written %d, err %v; want a clean call", ok, w, err)
	}
	t.Logf("one probe took %v", time.Since(start))
}

func TestAuxvAndMaps(t *testing.T) {
	auxv := []byte{
		6, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, // AT_PAGESZ 4096
		33, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0xd9, 0x61, 0x2a, 0x7f, 0, 0, // AT_SYSINFO_EHDR
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	}
	base := auxvLookup(auxv, atSysinfoEHDR)
	if base != 0x7f2a61d95000 {
		t.Fatalf("auxvLookup = %#x", base)
	}
	maps := "7f2a61d91000-7f2a61d95000 r--p 00000000 00:00 0    [vvar]\n" +
		"7f2a61d95000-7f2a61d97000 r-xp 00000000 00:00 0    [vdso]\n"
	if n, err := mappingSize(strings.NewReader(maps), base); n != 8192 || err != nil {
		t.Errorf("mappingSize = %d, %v; want 8192", n, err)
	}
	if _, err := mappingSize(strings.NewReader(maps), base+4096); err == nil {
		t.Error("mappingSize of an unmapped base: no error")
	}
}

// TestFootprintFailsFast: in the default mode a footprint beyond the
// headroom fails before the race starts; -race-always races anyway.
func TestFootprintFailsFast(t *testing.T) {
	start := time.Now()
	code, out, info, title := runMain(t, "-sim", "-race-time", "3s")
	if code != exitFail || title != "vdso: stack footprint 4144 bytes exceeds 104" {
		t.Errorf("exit %d, title %q; want the footprint failure", code, title)
	}
	if strings.Contains(out, "racing for") || info["vdso_lost"] != "" {
		t.Errorf("raced although the footprint failed:\n%s", out)
	}
	if el := time.Since(start); el > 2500*time.Millisecond {
		t.Errorf("took %v: the 3 s race ran", el)
	}
	_, out, _, _ = runMain(t, "-sim", "-race-always", "-race-time", "100ms")
	if !strings.Contains(out, "racing for") {
		t.Errorf("-race-always did not race:\n%s", out)
	}
}
