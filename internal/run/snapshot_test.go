package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/testkernel"
	"github.com/crashrig/crashrig/internal/verdict"
	"github.com/crashrig/crashrig/qemu"
)

// snapPlan prepares a run that starts from a saved state, with its own
// cache directory so that each test saves its own state.
func snapPlan(t *testing.T, cache string, o Options) *Plan {
	t.Helper()
	if o.Kernel == "" {
		o.Kernel = testkernel.Path(t)
	}
	o.Accel = "tcg"
	o.Snapshot = true
	o.LogDir = t.TempDir()
	o.Logf = t.Logf
	if cache != "" {
		o.CacheDir = cache
	}
	p, err := Prepare(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if p.snap == nil {
		t.Fatal("Prepare set up no snapshots")
	}
	return p
}

// snapCache is a scratch cache directory that shares the guest binary and
// images with the user's cache (so tests do not rebuild them), but not the
// saved states.
func snapCache(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	o := Options{}.withDefaults()
	for _, sub := range []string{"guest", "initramfs"} {
		if err := os.Symlink(o.CacheDir+"/"+sub, dir+"/"+sub); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func bootPlan(t *testing.T, p *Plan) *record.Run {
	t.Helper()
	res, err := p.Boot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s %q (%s) ttc %.3f wall %.2f start %.2f snapshot %q log %s", t.Name(), res.Verdict, res.Title, res.Reason,
		res.TimeToCrash, res.Wall, res.Timeline.Start, res.Snapshot, res.Log)
	checkOffline(t, res)
	return res
}

func restored(res *record.Run) bool { return strings.HasPrefix(res.Snapshot, "restored") }

// TestSnapshotIndependentRuns: two runs restored from one saved state draw
// different kernel random bytes, Go runtime random numbers and hash seeds, and
// get different mmap addresses, and the guest's wall clock is the host's.
func TestSnapshotIndependentRuns(t *testing.T) {
	p := snapPlan(t, snapCache(t), Options{Repro: selftest("-show-random", "-mode", "pass")})
	var seen []map[string]string
	for i := 0; i < 2; i++ {
		res := bootPlan(t, p)
		if !restored(res) || res.Verdict != verdict.Pass {
			t.Fatalf("run %d: %s, snapshot %q: want a pass restored from the saved state", i, res.Verdict, res.Snapshot)
		}
		info := map[string]string{}
		for _, it := range res.Info {
			info[it.Key] = it.Value
		}
		t.Logf("run %d: %v", i, info)
		seen = append(seen, info)
	}
	for _, k := range []string{"rand_kernel", "rand_go", "maphash", "addr_mmap"} {
		a, b := seen[0][k], seen[1][k]
		if a == "" || a == b {
			t.Errorf("%s: %q then %q: want two different values", k, a, b)
		}
	}
}

// TestSnapshotOrdersAndClock: the orders given at restore time (arguments,
// duration, iterations) are the ones the guest follows, though the saved
// state was made without them, and the restored guest set its wall clock
// from the host's.
func TestSnapshotOrdersAndClock(t *testing.T) {
	cache := snapCache(t)
	bootPlan(t, snapPlan(t, cache, Options{Repro: selftest("-mode", "exit", "-code", "0")})) // saves the state
	p := snapPlan(t, cache, Options{Repro: selftest("-mode", "sleep"), Duration: 1500 * time.Millisecond, Iterations: 2})
	res := bootPlan(t, p)
	if !restored(res) || res.Verdict != verdict.Pass || len(res.Iterations) != 2 {
		t.Fatalf("%s with %d iterations, snapshot %q: want a restored pass of 2 iterations", res.Verdict, len(res.Iterations), res.Snapshot)
	}
	for _, it := range res.Iterations {
		if it.Ran < 1.4 || it.Ran > 3 {
			t.Errorf("iteration %d ran %.2fs: want the 1.5s sent at restore time", it.Index, it.Ran)
		}
	}
	log, err := os.ReadFile(res.Log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "clock=set") || !strings.Contains(string(log), "resumed=1") {
		t.Errorf("restored run's log lacks the resumed init marker with clock=set:\n%s", log)
	}
}

// TestSnapshotVerdicts: crash, pass and hang on restored runs are what full
// boots give, with the same titles.
func TestSnapshotVerdicts(t *testing.T) {
	cache := snapCache(t)
	tests := []struct {
		name string
		o    Options
		want verdict.Verdict
	}{
		{"panic", Options{Repro: selftest("-mode", "panic", "-after", "500ms")}, verdict.Crash},
		{"pass", Options{Repro: selftest("-mode", "sleep"), Duration: 2 * time.Second}, verdict.Pass},
		{"kernel", Options{Repro: selftest("-mode", "sysrq", "-after", "500ms")}, verdict.Crash},
		{"hang", Options{Repro: selftest("-mode", "fifo-hang", "-after", "500ms"), HangTimeout: 4 * time.Second}, verdict.Hang},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := boot(t, tt.o)
			snap := bootPlan(t, snapPlan(t, cache, tt.o))
			if !restored(snap) {
				t.Fatalf("not restored: %s", snap.Snapshot)
			}
			if full.Verdict != tt.want || snap.Verdict != tt.want || full.Title != snap.Title {
				t.Errorf("full boot %s %q, restored %s %q: want %s both, same title", full.Verdict, full.Title, snap.Verdict, snap.Title, tt.want)
			}
			if tt.want == verdict.Crash && (snap.TimeToCrash < 0.4 || snap.TimeToCrash > 3) {
				t.Errorf("restored time to crash %.3fs: want about 0.5s from the restored start", snap.TimeToCrash)
			}
		})
	}
}

// TestSnapshotPVPanic: on a restored run the pvpanic device's event comes on
// the monitor session the restore opened, so a kernel panic with the console
// muted is still a crash, as after a boot (TestBootPVPanic).
func TestSnapshotPVPanic(t *testing.T) {
	p := snapPlan(t, snapCache(t), Options{Kernel: testkernel.Debug(t), Repro: selftest("-mode", "sysrq", "-after", "1s"),
		Duration: 20 * time.Second, Append: "quiet loglevel=0"})
	res := bootPlan(t, p)
	if !restored(res) || res.Verdict != verdict.Crash || res.Title != verdict.PVPanicTitle || !slices.Equal(res.Signals, []string{"pvpanic"}) {
		t.Fatalf("%s %q signals %v, snapshot %q: want a restored run's crash seen by pvpanic alone", res.Verdict, res.Title, res.Signals, res.Snapshot)
	}
	if ttc := res.TimeToCrash; ttc < 0.5 || ttc > 3 {
		t.Errorf("time to crash %.2fs, want about 1s from the restored start", ttc)
	}
}

// TestSnapshotCorruptRebuilt: a saved state whose bytes changed is never
// loaded: the next run hashes it, deletes it, saves a new one and restores
// from that.
func TestSnapshotCorruptRebuilt(t *testing.T) {
	cache := snapCache(t)
	o := Options{Repro: selftest("-mode", "exit", "-code", "0")}
	p := snapPlan(t, cache, o)
	bootPlan(t, p)
	path := p.snap.statePath()
	info, err := os.ReadFile(p.snap.infoPath())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("garbage!"), 4096) // same size, different bytes
	f.Close()
	st, _ := os.Stat(p.snap.dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("snapshot directory mode %v, want 0700", st.Mode().Perm())
	}

	var logs []string
	o.Logf = func(f string, a ...any) { logs = append(logs, strings.TrimSpace(f)); t.Logf(f, a...) }
	p2 := snapPlan(t, cache, o) // a new process would start like this
	p2.Opts.Logf = o.Logf
	res := bootPlan(t, p2)
	if !restored(res) || res.Verdict != verdict.Pass {
		t.Fatalf("after corruption: %s, snapshot %q: want a pass from a rebuilt state", res.Verdict, res.Snapshot)
	}
	if !strings.Contains(strings.Join(logs, "\n"), "rebuilding") {
		t.Errorf("no log line about rebuilding: %q", logs)
	}
	info2, _ := os.ReadFile(p2.snap.infoPath())
	if string(info2) == string(info) {
		t.Errorf("the state description did not change: the corrupt state was not rebuilt")
	}
}

// TestSnapshotRestoreFallsBack: a restore that fails (here the saved state
// was replaced behind crashrig's back by a file of the same size that qemu
// cannot load, and the check before the restore is defeated) boots the run
// normally, with the reason in the record.
func TestSnapshotRestoreFallsBack(t *testing.T) {
	o := Options{Repro: selftest("-mode", "exit", "-code", "0")}
	p := snapPlan(t, snapCache(t), o)
	bootPlan(t, p)
	path := p.snap.statePath()
	st, _ := os.Stat(path)
	if err := os.WriteFile(path, make([]byte, st.Size()), 0o600); err != nil {
		t.Fatal(err)
	}
	id, _ := statID(path)
	p.snap.ready.verifiedID = id // as if the file changed between the check and the load
	res := bootPlan(t, p)
	if restored(res) || !strings.Contains(res.Snapshot, "restore failed") || res.Verdict != verdict.Pass {
		t.Fatalf("run: %s, snapshot %q: want a pass from a normal boot after a failed restore", res.Verdict, res.Snapshot)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("the state that failed to restore is still there")
	}
	// The next run saves a new state and restores from it.
	res = bootPlan(t, p)
	if !restored(res) {
		t.Errorf("run after the fallback: snapshot %q, want restored from a new state", res.Snapshot)
	}
}

// TestSnapshotKey: the saved state's key changes with everything that shapes
// the state, and not with what is sent at restore time.
func TestSnapshotKey(t *testing.T) {
	base := func() *Plan {
		p := &Plan{Opts: Options{Repro: selftest("-mode", "pass"), CacheDir: t.TempDir()}.withDefaults(), InitramfsID: "img1",
			QemuVersion: "QEMU emulator version 7.2.22",
			Qemu:        qemu.Config{Binary: "/bin/true", Kernel: "/k", Initrd: "/i", Append: "x", SMP: 2, Memory: 512, Accel: "tcg"}}
		p.Kernel.SHA256 = "k1"
		return p
	}
	key := func(p *Plan) string {
		s, why := newSnapshotter(p)
		if s == nil {
			t.Fatal(why)
		}
		return s.key
	}
	ref := key(base())
	changes := map[string]func(p *Plan){
		"kernel":    func(p *Plan) { p.Kernel.SHA256 = "k2" },
		"image":     func(p *Plan) { p.InitramfsID = "img2" },
		"qemu":      func(p *Plan) { p.QemuVersion = "QEMU emulator version 8.0" },
		"smp":       func(p *Plan) { p.Qemu.SMP = 1 },
		"memory":    func(p *Plan) { p.Qemu.Memory = 256 },
		"accel":     func(p *Plan) { p.Qemu.Accel = "kvm" },
		"cpu":       func(p *Plan) { p.Qemu.CPU = "qemu64" },
		"tcg":       func(p *Plan) { p.Qemu.TCGThread = "single" },
		"append":    func(p *Plan) { p.Opts.Append = "nokaslr" },
		"cmdline":   func(p *Plan) { p.Opts.Cmdline = "console=ttyS0" },
		"qemu args": func(p *Plan) { p.Qemu.Extra = []string{"-machine", "q35"} },
		"bios":      func(p *Plan) { p.Qemu.BIOS = "/usr/share/qemu/qboot.rom" },
	}
	for name, change := range changes {
		p := base()
		change(p)
		if key(p) == ref {
			t.Errorf("%s changed, the key did not", name)
		}
	}
	same := map[string]func(p *Plan){
		"duration":   func(p *Plan) { p.Opts.Duration = time.Minute },
		"arguments":  func(p *Plan) { p.Opts.Repro.Args = []string{"-mode", "panic"} },
		"env":        func(p *Plan) { p.Opts.Env = []string{"A=b"} },
		"iterations": func(p *Plan) { p.Opts.Iterations = 3 },
	}
	for name, change := range same {
		p := base()
		change(p)
		if key(p) != ref {
			t.Errorf("%s changed the key, but it is sent at restore time", name)
		}
	}
	p := base()
	p.Opts.Image.InitScript = "seed"
	if s, why := newSnapshotter(p); s != nil || why == "" {
		t.Errorf("the seed init script cannot wait for orders, yet snapshots are on")
	}
}

// TestSnapshotEvict: beyond maxStates, the least recently used states go,
// and never the one in use.
func TestSnapshotEvict(t *testing.T) {
	dir := t.TempDir()
	s := &snapshotter{plan: &Plan{}, dir: dir, key: "k0"}
	now := time.Now()
	for i := 0; i < maxStates+2; i++ {
		k := fmt.Sprintf("k%d", i)
		os.WriteFile(filepath.Join(dir, k+".state"), []byte("x"), 0o600)
		os.WriteFile(filepath.Join(dir, k+".json"), []byte("{}"), 0o600)
		at := now.Add(-time.Duration(i) * time.Hour) // k0 the oldest use below
		if i == 0 {
			at = now.Add(-100 * time.Hour)
		}
		os.Chtimes(filepath.Join(dir, k+".json"), at, at)
	}
	os.WriteFile(filepath.Join(dir, "k9.state.tmp-1"), nil, 0o600)
	old := now.Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(dir, "k9.state.tmp-1"), old, old)
	s.evict()
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{"k0.json", "k0.state", "k1.json", "k1.state", "k2.json", "k2.state", "k3.json", "k3.state"}
	if strings.Join(left, " ") != strings.Join(want, " ") {
		t.Errorf("left %v, want %v", left, want)
	}
}

// TestSnapshotSharedState: two plans whose runs differ only in what is sent
// at restore time (here the environment) share one saved state; started at
// once, they save it once and both restore from it.
func TestSnapshotSharedState(t *testing.T) {
	cache := snapCache(t)
	var mu sync.Mutex
	saves := 0
	logf := func(f string, a ...any) {
		if strings.Contains(f, "saved the VM state") {
			mu.Lock()
			saves++
			mu.Unlock()
		}
		t.Logf(f, a...)
	}
	var plans []*Plan
	for _, env := range []string{"A=1", "A=2"} {
		p := snapPlan(t, cache, Options{Repro: selftest("-mode", "exit", "-code", "0"), Env: []string{env}})
		p.Opts.Logf = logf
		plans = append(plans, p)
	}
	if plans[0].snap.key != plans[1].snap.key {
		t.Fatalf("keys %s and %s: the environment is sent at restore time and must not change the state", plans[0].snap.key, plans[1].snap.key)
	}
	res := make([]*record.Run, 2)
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := p.Boot(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			res[i] = r
		}()
	}
	wg.Wait()
	for i, r := range res {
		if r == nil || !restored(r) || r.Verdict != verdict.Pass {
			t.Errorf("plan %d: %+v: want a pass restored from the shared state", i, r)
		}
	}
	if saves != 1 {
		t.Errorf("the state was saved %d times, want once", saves)
	}
}
