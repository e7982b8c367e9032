// Package bench measures crashrig against the seed story's own method on
// the same kernel, side by side and interleaved, so that host noise hits
// both alike: wall time per run, the delay from the kernel starting /init
// to the reproducer starting, and the delay from a crash line reaching the
// host to crashrig knowing the verdict.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/internal/guestbin"
	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/qemu"
)

// Options configure a benchmark.
type Options struct {
	Kernel   string
	Runs     int           // pairs of runs (0 = 5)
	Duration time.Duration // the reproducer's run length (0 = 5s)
	SMP      int           // vCPUs for both methods (0 = run.Defaults().SMP)
	Busybox  string        // static busybox ("" = /bin/busybox)
	CacheDir string
	LogDir   string
	Logf     func(format string, a ...any)
}

// A Sample is one measured quantity over the runs.
type Sample struct {
	Name   string
	Values []float64 // seconds
}

// Median of the values.
func (s Sample) Median() float64 {
	v := append([]float64(nil), s.Values...)
	sort.Float64s(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// Report is what Run measured.
type Report struct {
	Opts           Options
	SeedWall       Sample // the seed's method: qemu start to exit
	CrashrigWall   Sample // crashrig run: qemu start to verdict and qemu gone
	KernelToInit   Sample // crashrig: kernel's "Run /init" stamp to the reproducer's start marker (guest clock)
	CrashToVerdict Sample // crashrig: crash line arriving to the verdict being known (host clock)
	Grace          time.Duration
}

// Ratio is crashrig's median wall time over the seed method's.
func (r Report) Ratio() float64 { return r.CrashrigWall.Median() / r.SeedWall.Median() }

func (o Options) withDefaults() Options {
	if o.Runs == 0 {
		o.Runs = 5
	}
	if o.Duration == 0 {
		o.Duration = 5 * time.Second
	}
	if o.SMP == 0 {
		o.SMP = run.Defaults().SMP
	}
	if o.Busybox == "" {
		o.Busybox = "/bin/busybox"
	}
	return o
}

// Run measures. Runs alternate seed, crashrig, seed, crashrig…
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	rep := &Report{Opts: o, SeedWall: Sample{Name: "seed method wall"}, CrashrigWall: Sample{Name: "crashrig run wall"},
		KernelToInit: Sample{Name: "kernel /init to reproducer start"}, CrashToVerdict: Sample{Name: "crash line to verdict"}}
	seedImg, err := seedImage(ctx, o)
	if err != nil {
		return nil, err
	}
	ropts := run.Options{Kernel: o.Kernel, Repro: repro.Program{Builtin: "go20427"}, Duration: o.Duration, SMP: o.SMP,
		Accel: "tcg", CacheDir: o.CacheDir, LogDir: o.LogDir}
	plan, err := run.Prepare(ctx, ropts)
	if err != nil {
		return nil, err
	}
	ropts.Repro = repro.Program{Builtin: "selftest", Args: []string{"-mode", "panic", "-after", "1s"}}
	crashPlan, err := run.Prepare(ctx, ropts)
	if err != nil {
		return nil, err
	}
	rep.Grace = crashPlan.Opts.Grace
	for i := 0; i < o.Runs; i++ {
		w, err := seedRun(ctx, o, seedImg)
		if err != nil {
			return nil, err
		}
		rep.SeedWall.Values = append(rep.SeedWall.Values, w)
		res, err := plan.Boot(ctx)
		if err != nil {
			return nil, err
		}
		rep.CrashrigWall.Values = append(rep.CrashrigWall.Values, res.Wall)
		if d, ok := initToStart(res.Log); ok {
			rep.KernelToInit.Values = append(rep.KernelToInit.Values, d)
		}
		cres, err := crashPlan.Boot(ctx)
		if err != nil {
			return nil, err
		}
		decided := fmt.Sprintf("the crash run ended %s with no crash line", cres.Verdict)
		if cres.Timeline.CrashLine > 0 {
			rep.CrashToVerdict.Values = append(rep.CrashToVerdict.Values, cres.Timeline.Decided-cres.Timeline.CrashLine)
			decided = fmt.Sprintf("crash decided %.0fms after its line", 1000*(cres.Timeline.Decided-cres.Timeline.CrashLine))
		}
		o.logf("pair %d/%d: seed %.2fs, crashrig %.2fs (%s), %s", i+1, o.Runs, w, res.Wall, res.Verdict, decided)
	}
	return rep, nil
}

func (o Options) logf(format string, a ...any) {
	if o.Logf != nil {
		o.Logf(format, a...)
	}
}

// seedImage builds the seed story's image: busybox, a shell /init that
// runs the reproducer and reports in the story's words, and the reproducer.
func seedImage(ctx context.Context, o Options) (string, error) {
	guest, err := guestbin.Builder{CacheDir: filepath.Join(o.CacheDir, "guest")}.Path(ctx)
	if err != nil {
		return "", err
	}
	files, err := image.BusyboxFiles(o.Busybox)
	if err != nil {
		return "", err
	}
	cmd := fmt.Sprintf("/bin/go20427 -d %gs", o.Duration.Seconds())
	files = append(files,
		initramfs.File{Path: "/bin/go20427", Src: guest, Mode: 0o755},
		initramfs.File{Path: "/init", Data: []byte(image.SeedInit(cmd)), Mode: 0o755})
	path, _, err := initramfs.Cache{Dir: filepath.Join(o.CacheDir, "initramfs")}.Build(initramfs.Spec{Files: files})
	return path, err
}

// SeedArgv is the story's qemu command line, with TCG in place of KVM.
func SeedArgv(kernel, initrd string, smp int) []string {
	return []string{qemu.DefaultBinary, "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0",
		"-smp", strconv.Itoa(smp), "-nographic", "-serial", "mon:stdio", "-accel", "tcg,thread=multi", "-cpu", "max"}
}

// seedRun boots the seed image and returns the wall seconds until qemu
// exits after the guest powers off.
func seedRun(ctx context.Context, o Options, img string) (float64, error) {
	argv := SeedArgv(o.Kernel, img, o.SMP)
	ctx, cancel := context.WithTimeout(ctx, o.Duration+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &out, nil
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start).Seconds()
	if err != nil || !bytes.Contains(out.Bytes(), []byte("Test exited with status 0")) {
		return 0, fmt.Errorf("seed method run failed (%v); its console:\n%s", err, tail(out.Bytes(), 2000))
	}
	return wall, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

var runInitRe = regexp.MustCompile(`\[\s*(\d+\.\d+)\] Run /init as init process`)
var startRe = regexp.MustCompile(`##crashrig start .*up=(\d+\.\d+)`)

// initToStart reads a console log: seconds (guest clock) from the kernel
// starting /init to the reproducer's start marker.
func initToStart(log string) (float64, bool) {
	b, err := os.ReadFile(log)
	if err != nil {
		return 0, false
	}
	a, s := runInitRe.FindSubmatch(b), startRe.FindSubmatch(b)
	if a == nil || s == nil {
		return 0, false
	}
	t0, _ := strconv.ParseFloat(string(a[1]), 64)
	t1, _ := strconv.ParseFloat(string(s[1]), 64)
	return t1 - t0, true
}

// Write prints the report as a table with the ratios the goals name.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "kernel %s, reproducer go20427 -d %v, -smp %d, TCG, %d interleaved pairs (medians)\n\n",
		r.Opts.Kernel, r.Opts.Duration, r.Opts.SMP, r.Opts.Runs)
	row := func(s Sample, goal string) {
		fmt.Fprintf(w, "%-36s %8.3fs   min %.3f max %.3f   %s\n", s.Name, s.Median(), minOf(s.Values), maxOf(s.Values), goal)
	}
	row(r.SeedWall, "")
	row(r.CrashrigWall, fmt.Sprintf("ratio %.2f (goal <= 0.65)", r.Ratio()))
	row(r.KernelToInit, "goal <= 0.100s")
	row(r.CrashToVerdict, fmt.Sprintf("goal <= 0.100s + grace (%v)", r.Grace))
	fmt.Fprintln(w, "\nseed method: "+strings.Join(SeedArgv("KERNEL", "seed.cpio.gz", r.Opts.SMP), " "))
}

func minOf(v []float64) float64 {
	m := 0.0
	for i, x := range v {
		if i == 0 || x < m {
			m = x
		}
	}
	return m
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
