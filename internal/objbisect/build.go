package objbisect

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/ccwrap"
	"github.com/crashrig/crashrig/internal/kbuild"
)

// A Booter boots one run of a prepared kernel; *run.Plan is one.
type Booter = bisect.Booter

// BuildOptions configure a Builder.
type BuildOptions struct {
	Src    string   // kernel source tree (make -C)
	Out    string   // build directory (O=), reused by every build; must hold a .config
	Flags  string   // the extra flags
	Only   []string // candidate objects: paths under these prefixes, relative to Out (nil = all)
	Make   []string // the make command, e.g. nice -n 15 make -j2
	Target string   // make target ("" = bzImage)
	Kernel string   // the kernel the target makes, relative to Out ("" = arch/x86/boot/bzImage)
	CC     string   // the compiler ("" = gcc)
	Self   string   // the crashrig binary, for crashrig cc
	Work   string   // kernels/ and builds/ (one cc log and make log per build)
	Bisect bisect.Config
	// Prepare makes a kernel bootable with the reproducer.
	Prepare func(ctx context.Context, kernel string) (Booter, error)
	Logf    func(format string, a ...any)
}

// A Builder is the Tester that builds kernels in one tree: it remembers which objects
// have the flags now and deletes exactly those whose flags change before make runs, so
// only they (and what links them) are rebuilt. The compiler wrapper's log proves it:
// every object whose flags changed must show up there with its new flags.
type Builder struct {
	o         BuildOptions
	objects   []string        // every object the wrapper saw in the first build
	flagged   map[string]bool // objects built with the flags now
	stale     []string        // objects an earlier search left flagged, deleted: they must rebuild
	real      string          // the real compiler
	shimDir   string          // holds the link that makes crashrig the compiler
	unbuilt   map[string]bool // listed objects the build does not compile (stale .cmd files)
	refs      bisect.References
	boot      bisect.Booters
	builds    int
	keepGoing bool          // make -k: learn every object the flags break in one build
	Broken    []string      // candidates that do not compile with the flags: left plain
	BuildTime time.Duration // wall time spent building
}

// NewBuilder lists the objects of the build directory (kbuild's .cmd files name each
// object's source: only C objects count), builds the kernel with no flags and with the
// flags on every candidate, the good and the bad side, and returns the builder and the
// candidates. The compiler is crashrig itself behind a link named like it (Self under
// the compiler's name, first in the build's PATH), so the build's command lines are the
// same as without crashrig and nothing rebuilds but the objects whose flags change.
func NewBuilder(ctx context.Context, o BuildOptions) (*Builder, []string, error) {
	if o.Target == "" {
		o.Target = "bzImage"
	}
	if o.Kernel == "" {
		o.Kernel = "arch/x86/boot/bzImage"
	}
	if o.CC == "" {
		o.CC = "gcc"
	}
	if _, err := os.Stat(filepath.Join(o.Out, ".config")); err != nil {
		return nil, nil, fmt.Errorf("build directory %s has no .config: %w", o.Out, err)
	}
	b := &Builder{o: o, flagged: map[string]bool{}}
	if err := b.shim(); err != nil {
		return nil, nil, err
	}
	// Objects an earlier search left built with the flags: kbuild cannot tell.
	if err := b.forgetFlagged(); err != nil {
		return nil, nil, err
	}
	objs, err := scanObjects(o.Out)
	if err == nil && len(objs) == 0 {
		// A fresh build directory: build it once, plain, to learn its objects.
		b.logf("no object built in %s yet: building the kernel once without flags", o.Out)
		if _, _, err := b.build(ctx, nil); err != nil {
			return nil, nil, fmt.Errorf("the first build: %w", err)
		}
		objs, err = scanObjects(o.Out)
	}
	if err != nil {
		return nil, nil, err
	}
	b.objects = objs
	var cands []string
	for _, obj := range b.objects {
		if len(o.Only) == 0 || slices.ContainsFunc(o.Only, func(p string) bool { return strings.HasPrefix(obj, p) }) {
			cands = append(cands, obj)
		}
	}
	if len(cands) == 0 {
		return nil, nil, fmt.Errorf("%w: none of the %d objects in %s is under %s", ErrInput,
			len(b.objects), o.Out, strings.Join(o.Only, ", "))
	}
	b.logf("%d objects in the build, %d candidates", len(b.objects), len(cands))
	k, _, err := b.build(ctx, nil)
	if errors.Is(err, errBuild) {
		return nil, nil, fmt.Errorf("%w: the kernel does not build without flags: %v", ErrInput, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the build without flags: %w", err)
	}
	if b.boot.Good, err = o.Prepare(ctx, k); err != nil {
		return nil, nil, err
	}
	// The bad end: the flags on every candidate that builds with them. Its builds keep
	// going past errors, so every object the flags break (at compile time, or at the
	// link, which names it) is known at once; those stay plain, and the build is tried
	// again, a few rounds at most.
	b.keepGoing = true
	k, _, err = b.build(ctx, cands)
	logs := []int{b.builds}
	for round := 0; errors.Is(err, errBuild) && round < maxBrokenRounds; round++ {
		broken := b.brokenBy(cands)
		if len(broken) == 0 || len(broken) >= len(cands) {
			break
		}
		b.logf("%d objects do not build with %q and stay plain: %s", len(broken), o.Flags, bisect.Abbreviate(broken))
		cands = slices.DeleteFunc(cands, func(obj string) bool { return slices.Contains(broken, obj) })
		b.Broken = append(b.Broken, broken...)
		k, _, err = b.build(ctx, cands)
		logs = append(logs, b.builds)
	}
	b.keepGoing = false
	slices.Sort(b.Broken)
	if err == nil {
		// Objects listed by stale .cmd files (an option turned off since, another
		// target) are compiled by none of these builds and are not there: they cannot
		// be candidates.
		seen := map[string]bool{}
		for _, n := range logs {
			log, err := readCCLog(b.ccLogPath(n))
			if err != nil {
				return nil, nil, err
			}
			maps.Copy(seen, log)
		}
		for _, obj := range cands {
			if !seen[obj] {
				b.notBuilt(obj)
			}
		}
	}
	if len(b.unbuilt) > 0 {
		cands = slices.DeleteFunc(cands, func(obj string) bool { return b.unbuilt[obj] })
		b.objects = slices.DeleteFunc(b.objects, func(obj string) bool { return b.unbuilt[obj] })
		b.logf("%d listed objects are not part of this build (stale .cmd files), left out: %s; %d candidates",
			len(b.unbuilt), bisect.Abbreviate(slices.Sorted(maps.Keys(b.unbuilt))), len(cands))
	}
	if errors.Is(err, errBuild) {
		return nil, nil, fmt.Errorf("%w: the kernel with %q on every candidate does not build, so the search has no bad end: "+
			"choose flags the kernel builds with, or narrow the candidates with --only (%v)", ErrInput, o.Flags, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the build with the flags on every candidate: %w", err)
	}
	if len(cands) == 0 && len(b.Broken) > 0 {
		return nil, nil, fmt.Errorf("%w: no candidate builds with %q (%d do not build with them: %s), so the search has no bad end: "+
			"choose flags the kernel builds with", ErrInput, o.Flags, len(b.Broken), bisect.Abbreviate(b.Broken))
	}
	if len(cands) == 0 {
		return nil, nil, fmt.Errorf("%w: none of the candidates is compiled by this build", ErrInput)
	}
	if b.boot.Bad, err = o.Prepare(ctx, k); err != nil {
		return nil, nil, err
	}
	return b, cands, nil
}

// shim makes Work/shim/<compiler> a link to crashrig and finds the real compiler.
func (b *Builder) shim() error {
	real, err := exec.LookPath(b.o.CC)
	if err != nil {
		return fmt.Errorf("compiler %s: %w", b.o.CC, err)
	}
	b.real = real
	b.shimDir = filepath.Join(b.o.Work, "shim")
	for _, d := range []string{b.shimDir, filepath.Join(b.o.Work, "builds")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	link := filepath.Join(b.shimDir, filepath.Base(b.o.CC))
	os.Remove(link)
	return os.Symlink(b.o.Self, link)
}

// flaggedRecord lists the objects built with the flags, for the next search in the tree.
func (b *Builder) flaggedRecord() string { return filepath.Join(b.o.Out, ".crashrig-flagged") }

// forgetFlagged deletes the objects an earlier search left built with the flags.
func (b *Builder) forgetFlagged() error {
	data, err := os.ReadFile(b.flaggedRecord())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, obj := range strings.Fields(string(data)) {
		if err := os.Remove(filepath.Join(b.o.Out, obj)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		b.stale = append(b.stale, obj)
	}
	return nil
}

// writeFlagged records the objects that may be built with the flags.
func (b *Builder) writeFlagged(sets ...map[string]bool) error {
	var objs []string
	for _, s := range sets {
		for o, on := range s {
			if on {
				objs = append(objs, o)
			}
		}
	}
	slices.Sort(objs)
	return atomicfile.WriteBytes(b.flaggedRecord(), 0o600, []byte(strings.Join(slices.Compact(objs), "\n")))
}

// scanObjects lists the C objects of a kbuild build directory that go into the kernel:
// those whose .cmd file names a .c source and compiles it with -D__KERNEL__.
func scanObjects(out string) ([]string, error) {
	var objs []string
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".o.cmd") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		lines := strings.SplitN(string(data), "\n", 8)
		// Kernel objects only: host programs (objtool, scripts/) are built by the same
		// compiler but without -D__KERNEL__, and flags on them change no kernel.
		if !strings.Contains(lines[0], " -D__KERNEL__ ") {
			return nil
		}
		for _, line := range lines {
			if strings.HasPrefix(line, "source_") && strings.HasSuffix(strings.TrimSpace(line), ".c") {
				rel, err := filepath.Rel(out, filepath.Join(filepath.Dir(p), strings.TrimSuffix(name[1:], ".cmd")))
				if err != nil {
					return err
				}
				objs = append(objs, rel)
				break
			}
		}
		return nil
	})
	slices.Sort(objs)
	return objs, err
}

func (b *Builder) logf(format string, a ...any) {
	if b.o.Logf != nil {
		b.o.Logf(format, a...)
	}
}

// Builds returns the number of kernels built.
func (b *Builder) Builds() int { return b.builds }

// Test implements Tester: build with the flags on set, then one step of package bisect.
func (b *Builder) Test(ctx context.Context, set []string, share float64) (bisect.StepResult, error) {
	k, _, err := b.build(ctx, set)
	if errors.Is(err, errBuild) {
		return bisect.StepResult{Verdict: bisect.Skipped, Reason: err.Error(), Share: share}, nil
	}
	if err != nil {
		return bisect.StepResult{}, err
	}
	if b.boot.Candidate, err = b.o.Prepare(ctx, k); err != nil {
		return bisect.StepResult{}, err
	}
	b.logf("testing %d objects with the flags: %s", len(set), bisect.Abbreviate(set))
	sr, err := bisect.RunStep(ctx, b.o.Bisect, share, &b.boot, &b.refs, nil, func(who bisect.Role, s bisect.Sample) {
		b.logf("  %s run: crashed %v after %.2fs", who, s.Crashed, s.Time)
	})
	if err == nil {
		b.logf("  %s: %s (%d runs, %.0f VM-s)", sr.Verdict, sr.Reason, len(sr.Runs), sr.VM)
	}
	return sr, err
}

var errBuild = errors.New("build failed")

// ErrInput marks a request no build can satisfy (no candidate under --only).
var ErrInput = errors.New("bad input")

// build makes the kernel with the flags on exactly set and returns a copy of it and the
// wrapper's log of the objects compiled.
func (b *Builder) build(ctx context.Context, set []string) (string, map[string]bool, error) {
	want := map[string]bool{}
	for _, o := range set {
		want[o] = true
	}
	var changed []string
	for _, obj := range b.objects {
		if want[obj] != b.flagged[obj] {
			changed = append(changed, obj)
			if err := os.Remove(filepath.Join(b.o.Out, obj)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", nil, err
			}
		}
	}
	changed = append(changed, b.stale...)
	b.stale = nil
	if k := b.kernelPath(want); len(changed) == 0 {
		if _, err := os.Stat(k); err == nil {
			return k, map[string]bool{}, nil // the tree already holds this kernel
		}
	}
	if err := b.writeFlagged(b.flagged, want); err != nil {
		return "", nil, err
	}
	b.builds++
	n := b.builds
	ccLog, makeLog := b.ccLogPath(n), b.makeLogPath(n)
	os.Remove(ccLog)
	start := time.Now()
	err := b.make(ctx, b.pattern(want), ccLog, makeLog)
	b.BuildTime += time.Since(start)
	if ctx.Err() != nil {
		return "", nil, ctx.Err()
	}
	// Whatever happened, the objects changed no longer have their old flags.
	for _, obj := range changed {
		b.flagged[obj] = want[obj]
	}
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v%s (log %s)", errBuild, err, firstError(makeLog), makeLog)
	}
	if err := b.writeFlagged(want); err != nil {
		return "", nil, err
	}
	log, err := readCCLog(ccLog)
	if err != nil {
		return "", nil, err
	}
	for _, obj := range changed {
		flagged, ok := log[obj]
		if !ok && b.notBuilt(obj) {
			continue // deleted before make and not made again: no part of this build
		}
		if !ok || flagged != want[obj] {
			return "", nil, fmt.Errorf("build %d: %s was not recompiled with its new flags (see %s)", n, obj, ccLog)
		}
	}
	b.logf("build %d: %d objects with the flags, %d recompiled, %s", n, len(set), len(log), time.Since(start).Round(time.Second))
	k, err := b.keep(want)
	return k, log, err
}

// maxBrokenRounds bounds the builds of the bad end that leave out objects the flags break.
const maxBrokenRounds = 4

// linkError matches the linker naming an object it cannot link: "ld: mm/rmap.o: in
// function `page_to_pgoff':" (with -fno-inline, code that inlining used to drop calls
// functions the configuration leaves out).
var linkError = regexp.MustCompile(`(?m)^(?:ld|[^ :]*-ld(?:\.bfd)?): ([^ :]+\.o): in function`)

// brokenBy returns the objects of set the last (failed) build broke: those it compiled
// with the flags that are missing afterwards (the compiler or a step after it failed on
// them), and those the linker names.
func (b *Builder) brokenBy(set []string) []string {
	log, err := readCCLog(b.ccLogPath(b.builds))
	if err != nil {
		return nil
	}
	in := map[string]bool{}
	for _, obj := range set {
		in[obj] = true
	}
	broken := map[string]bool{}
	for _, obj := range set {
		if _, err := os.Stat(filepath.Join(b.o.Out, obj)); log[obj] && errors.Is(err, os.ErrNotExist) {
			broken[obj] = true
		}
	}
	if data, err := os.ReadFile(b.makeLogPath(b.builds)); err == nil {
		for _, m := range linkError.FindAllStringSubmatch(string(data), -1) {
			if obj := filepath.Clean(m[1]); in[obj] {
				broken[obj] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(broken))
}

func (b *Builder) ccLogPath(n int) string {
	return filepath.Join(b.o.Work, "builds", fmt.Sprintf("%03d.cc.log", n))
}

func (b *Builder) makeLogPath(n int) string {
	return filepath.Join(b.o.Work, "builds", fmt.Sprintf("%03d.make.log", n))
}

// notBuilt reports (and remembers) that obj, deleted before a build that succeeded, was
// not made again: the target does not need it.
func (b *Builder) notBuilt(obj string) bool {
	if _, err := os.Stat(filepath.Join(b.o.Out, obj)); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	if b.unbuilt == nil {
		b.unbuilt = map[string]bool{}
	}
	b.unbuilt[obj] = true
	return true
}

// firstError returns ": " and the first error line of a make log, with the hint kbuild
// prints after it, or "" when it finds none.
func firstError(makeLog string) string {
	data, err := os.ReadFile(makeLog)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "ERROR:") || strings.Contains(l, " error: ") {
			msg := strings.TrimSpace(l)
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "Set CONFIG_") {
				msg += " " + strings.TrimSpace(lines[i+1])
			}
			return ": " + msg
		}
	}
	return ""
}

// pattern selects exactly the objects in want among every object known: for each, the
// shortest hash suffix no other object shares.
func (b *Builder) pattern(want map[string]bool) string {
	if len(want) == 0 {
		return "n"
	}
	var parts []string
	for obj := range want {
		h := ccwrap.Hash(obj)
		n := 1
		for ; n < 64; n++ {
			mask := uint64(1)<<n - 1
			clash := false
			for _, other := range b.objects {
				if !want[other] && ccwrap.Hash(other)&mask == h&mask {
					clash = true
					break
				}
			}
			if !clash {
				break
			}
		}
		parts = append(parts, fmt.Sprintf("%0*b", n, h&(uint64(1)<<n-1)))
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), ",")
}

// make runs the build with crashrig first in PATH as the compiler.
func (b *Builder) make(ctx context.Context, pattern, ccLog, makeLog string) error {
	args := slices.Clone(b.o.Make)
	if b.keepGoing {
		args = append(args, "-k")
	}
	args = append(args, "-C", b.o.Src, "O="+b.o.Out, b.o.Target)
	env := []string{"PATH=" + b.shimDir + string(os.PathListSeparator) + os.Getenv("PATH"), ccwrap.EnvReal + "=" + b.real,
		ccwrap.EnvFlags + "=" + b.o.Flags, ccwrap.EnvPattern + "=" + pattern, ccwrap.EnvLog + "=" + ccLog}
	return kbuild.Run(ctx, b.o.Out, args, env, makeLog)
}

// keep copies the kernel the build made into kernels/, named by the set.
func (b *Builder) keep(want map[string]bool) (string, error) {
	var set []string
	for o := range want {
		set = append(set, o)
	}
	slices.Sort(set)
	dst := b.kernelPath(want)
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := kbuild.Copy(filepath.Join(b.o.Out, b.o.Kernel), dst); err != nil {
		return "", fmt.Errorf("%w: no kernel after the build: %v", errBuild, err)
	}
	return dst, atomicfile.WriteBytes(filepath.Join(dir, "objects"), 0o600, []byte(strings.Join(set, "\n")+"\n"))
}

// kernelPath is where the kernel with the flags on want is kept.
func (b *Builder) kernelPath(want map[string]bool) string {
	var set []string
	for o, on := range want {
		if on {
			set = append(set, o)
		}
	}
	slices.Sort(set)
	h := sha256.Sum256([]byte(strings.Join(set, "\n") + "\x00" + b.o.Flags))
	return filepath.Join(b.o.Work, "kernels", hex.EncodeToString(h[:8]), "bzImage")
}

// readCCLog reads the wrapper's log: object → whether it got the flags (the last line
// for an object wins).
func readCCLog(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || (f[1] != "flags" && f[1] != "plain") {
			return nil, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		out[f[2]] = f[1] == "flags"
	}
	return out, sc.Err()
}
