//go:build linux && amd64

package vdsostack

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// Exit codes of Main.
const (
	exitPass  = 0 // every check passed
	exitFail  = 1 // a check failed; a fail marker names it
	exitUsage = 2 // bad flags
	exitError = 3 // the reproducer could not do its job (no vDSO, mmap failed, ...)
)

// A config holds Main's flags.
type config struct {
	headroom  int           // bytes the vDSO may use below its return address
	mode      string        // "measure", "race" or "both"
	raceTime  time.Duration // how long the race runs
	funcs     []string      // function names, see functions
	sim       bool          // use the built-in probe instead of the vDSO
	clock     int           // clock id for clock_gettime and clock_getres
	maxHeight int           // upper end of the footprint search in bytes
	raceAll   bool          // race even when a footprint has already failed

	// Set in a child process, to make one call at one height.
	probeFunc   string
	probeHeight int
}

// parseFlags parses Main's arguments. On an error it has already told w
// (the flag package prints its own errors with the usage).
func parseFlags(args []string, w io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("vdsostack", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.IntVar(&c.headroom, "headroom", 104, "fail when a function needs more than this many `bytes` of stack below its return address (Go 1.9 left 104)")
	fs.StringVar(&c.mode, "mode", "both", "what to check: measure (footprint), race (lost updates) or both")
	fs.DurationVar(&c.raceTime, "race-time", 5*time.Second, "how long the race runs")
	funcs := fs.String("funcs", "clock_gettime,gettimeofday,time", "comma-separated vDSO `functions`: clock_gettime, gettimeofday, time, clock_getres, getcpu")
	fs.BoolVar(&c.sim, "sim", false, "positive control: measure and race a built-in function with the seed's stack probe instead of the vDSO")
	fs.IntVar(&c.clock, "clock", 1, "clock `id` for clock_gettime and clock_getres (1 = CLOCK_MONOTONIC)")
	fs.BoolVar(&c.raceAll, "race-always", false, "race even when a footprint already exceeds the headroom (by default that fails at once)")
	fs.IntVar(&c.maxHeight, "max-height", 65536, "largest stack headroom in `bytes` the footprint search tries (a multiple of 16)")
	fs.StringVar(&c.probeFunc, "probe-func", "", "internal: in a child, call this function once")
	fs.IntVar(&c.probeHeight, "probe-height", 0, "internal: the child's stack headroom in bytes")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.funcs = strings.Split(*funcs, ",")
	if c.sim {
		c.funcs = []string{simName}
	}
	if err := c.validate(fs.Args()); err != nil {
		fmt.Fprintf(w, "vdsostack: %v\n", err)
		return nil, err
	}
	return c, nil
}

func (c *config) validate(extra []string) error {
	switch {
	case len(extra) > 0:
		return fmt.Errorf("unexpected arguments: %q", extra)
	case c.mode != "measure" && c.mode != "race" && c.mode != "both":
		return fmt.Errorf("-mode %q: want measure, race or both", c.mode)
	case c.maxHeight < 16 || c.maxHeight%16 != 0 || c.maxHeight > guardBytes:
		return fmt.Errorf("-max-height %d: want a multiple of 16 between 16 and %d", c.maxHeight, guardBytes)
	case c.headroom < 0:
		return fmt.Errorf("-headroom %d: want >= 0", c.headroom)
	case c.raceTime <= 0 && c.mode != "measure":
		return fmt.Errorf("-race-time %v: want > 0", c.raceTime)
	}
	for _, name := range c.funcs {
		if _, ok := lookupFunction(name); !ok {
			return fmt.Errorf("-funcs: unknown function %q", name)
		}
	}
	return nil
}

// Main runs the reproducer with os.Args[1:]-style arguments and returns its
// exit code: 0 pass, 1 fail (a fail marker says why), 2 bad flags, 3 could
// not run. Progress and results go to stdout.
func Main(args []string) int {
	return run(context.Background(), args, os.Stdout)
}

func run(ctx context.Context, args []string, w io.Writer) int {
	c, err := parseFlags(args, w)
	if err != nil {
		return exitUsage
	}
	if c.probeFunc != "" {
		return runChildProbe(w, c.probeFunc, c.probeHeight, c.clock)
	}
	code, err := check(ctx, c, w)
	if err != nil {
		fmt.Fprintf(w, "vdsostack: %v\n", err)
		fmt.Fprintln(w, marker.Format(marker.Info, "vdso_error", err.Error()))
		return exitError
	}
	return code
}

// check measures and races as configured, prints the results and returns
// the verdict's exit code.
func check(ctx context.Context, c *config, w io.Writer) (int, error) {
	fns, pcs, err := resolve(c.funcs, w)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "vdsostack: mode %s, headroom %d bytes, GOMAXPROCS %d, %d CPUs\n",
		c.mode, c.headroom, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintln(w, marker.Format(marker.Info, "vdso_headroom", strconv.Itoa(c.headroom),
		"vdso_mode", c.mode, "gomaxprocs", strconv.Itoa(runtime.GOMAXPROCS(0)),
		"ncpu", strconv.Itoa(runtime.NumCPU()), "vdso_sim", strconv.FormatBool(c.sim)))

	// The race needs the footprints to place its counters, so it always
	// measures; -mode race only leaves them out of the verdict.
	var stop func(footprint) bool
	if c.mode == "both" && !c.raceAll {
		stop = func(fp footprint) bool { return judge([]footprint{fp}, nil, c.headroom) != "" }
	}
	fps, err := measure(ctx, fns, c.maxHeight, c.clock, stop)
	if err != nil {
		return 0, err
	}
	var raceable []int // functions whose footprint fits on a stack
	for i, fp := range fps {
		printFootprint(w, fp, c.maxHeight)
		if !fp.over {
			raceable = append(raceable, i)
		}
	}
	// A footprint beyond the headroom is deterministic: fail as soon as it is
	// measured, so a comparison learns it in about two seconds instead of after
	// the race.
	failFast := c.mode == "both" && !c.raceAll && judge(fps, nil, c.headroom) != ""
	var races []raceResult
	if c.mode != "measure" && len(raceable) > 0 && !failFast {
		fmt.Fprintf(w, "vdsostack: racing for %v\n", c.raceTime)
		races, err = race(pick(fns, raceable), pick(pcs, raceable), pick(fps, raceable), c.raceTime, c.clock)
		if err != nil {
			return 0, err
		}
		printRaces(w, races, c.raceTime)
	}
	if c.mode == "race" {
		fps = nil
	}
	title := judge(fps, races, c.headroom)
	if title == "" {
		fmt.Fprintln(w, "vdsostack: pass")
		return exitPass, nil
	}
	fmt.Fprintf(w, "vdsostack: FAIL: %s\n", title)
	fmt.Fprintln(w, marker.Format(marker.Fail, "title", title))
	return exitFail, nil
}

// resolve finds the code of each named function: in the vDSO, or the
// built-in probe for -sim (which needs no vDSO).
func resolve(names []string, w io.Writer) ([]function, []uintptr, error) {
	var v *vdso
	if len(names) == 1 && names[0] == simName {
		fmt.Fprintf(w, "vdsostack: -sim: measuring a built-in stack probe, not the vDSO\n")
	} else {
		var err error
		if v, err = findVDSO(); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(w, "vdsostack: vDSO at %#x, %d bytes, %d functions\n", v.base, v.size, len(v.syms))
	}
	fns := make([]function, len(names))
	pcs := make([]uintptr, len(names))
	for i, name := range names {
		fns[i], _ = lookupFunction(name)
		pc, err := v.address(fns[i])
		if err != nil {
			return nil, nil, err
		}
		pcs[i] = pc
	}
	return fns, pcs, nil
}

func pick[T any](s []T, idx []int) []T {
	var out []T
	for _, i := range idx {
		out = append(out, s[i])
	}
	return out
}

// judge returns the failure title, or "" for a pass. A footprint failure
// wins over a lost update: it is deterministic, so its title is stable.
// A footprint counts the return address; the headroom does not.
func judge(fps []footprint, races []raceResult, headroom int) string {
	for _, fp := range fps {
		if fp.over || fp.bytes-8 > headroom {
			return fmt.Sprintf("vdso: stack footprint %d bytes exceeds %d", fp.bytes, headroom)
		}
	}
	for _, r := range races {
		if r.lost > 0 {
			return "vdso: lost updates under stack probe"
		}
	}
	for _, r := range races {
		if r.gained > 0 {
			return "vdso: call overwrote stack beyond its frame"
		}
	}
	return ""
}

func printFootprint(w io.Writer, fp footprint, max int) {
	if fp.over {
		fmt.Fprintf(w, "vdsostack: %s: faults even with %d bytes of stack (%d probes, %.2fs)\n",
			fp.fn, max, fp.probes, fp.elapsed.Seconds())
		fmt.Fprintln(w, marker.Format(marker.Info, "vdso_footprint_"+fp.fn, strconv.Itoa(fp.bytes), "vdso_over_"+fp.fn, "true"))
		return
	}
	fmt.Fprintf(w, "vdsostack: %s: footprint %d bytes (faults at %d), writes %d bytes (%d probes, %.2fs)\n",
		fp.fn, fp.bytes, fp.bytes-16, fp.written, fp.probes, fp.elapsed.Seconds())
	fmt.Fprintln(w, marker.Format(marker.Info,
		"vdso_footprint_"+fp.fn, strconv.Itoa(fp.bytes),
		"vdso_written_"+fp.fn, strconv.Itoa(fp.written)))
}

func printRaces(w io.Writer, races []raceResult, d time.Duration) {
	var lost, incs uint64
	for _, r := range races {
		lost += r.lost
		incs += r.increments
		fmt.Fprintf(w, "vdsostack: %s: %d calls, %d increments on %d words, %d lost%s\n",
			r.fn, r.calls, r.increments, r.words, r.lost, depthNote(r.lostAt))
		kv := []string{
			"vdso_race_calls_" + r.fn, strconv.FormatUint(r.calls, 10),
			"vdso_lost_" + r.fn, strconv.FormatUint(r.lost, 10),
		}
		if len(r.lostAt) > 0 {
			kv = append(kv, "vdso_lost_at_"+r.fn, joinInts(r.lostAt))
		}
		if r.gained > 0 {
			kv = append(kv, "vdso_gained_"+r.fn, strconv.FormatUint(r.gained, 10))
		}
		fmt.Fprintln(w, marker.Format(marker.Info, kv...))
	}
	fmt.Fprintln(w, marker.Format(marker.Info, "vdso_lost", strconv.FormatUint(lost, 10),
		"vdso_increments", strconv.FormatUint(incs, 10), "vdso_race_seconds", strconv.FormatFloat(d.Seconds(), 'f', -1, 64)))
}

func depthNote(depths []int) string {
	if len(depths) == 0 {
		return ""
	}
	return " (at SP-" + strings.ReplaceAll(joinInts(depths), ",", ", SP-") + ")"
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
