// Package cfgbisect finds the config options that turn a good kernel config into a bad
// one: Builder is the bisect.SetTester that writes the good config with some options
// taken from the bad one, lets make olddefconfig settle their dependencies, builds the
// kernel in one reused build directory and boots it; bisect.Minimal narrows the options
// down. An option that olddefconfig drops or changes (its dependencies are not met) is
// recorded: the report names it, since setting it alone did not set it.
package cfgbisect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/kbuild"
	"github.com/crashrig/crashrig/internal/kconfig"
)

// Options configure a Builder.
type Options struct {
	Src       string   // kernel source tree (make -C)
	Out       string   // build directory (O=), reused by every build
	Good, Bad string   // the two .config files
	Make      []string // the make command, e.g. nice -n 15 make -j2
	Target    string   // make target ("" = bzImage)
	Kernel    string   // the kernel the target makes, relative to Out ("" = arch/x86/boot/bzImage)
	Work      string   // kernels/ and builds/
	Bisect    bisect.Config
	Prepare   func(ctx context.Context, kernel string) (bisect.Booter, error)
	Logf      func(format string, a ...any)
}

// A Builder builds and tests configs between the good and the bad one.
type Builder struct {
	o         Options
	good, bad *kconfig.Config
	boot      bisect.Booters
	refs      bisect.References
	builds    int // kernels built
	rounds    int // configs written
	// Dropped maps each option olddefconfig did not keep as asked to what it became.
	Dropped   map[string]string
	BuildTime time.Duration
}

// ErrInput marks a config file that cannot be read.
var ErrInput = errors.New("bad input")

// NewBuilder reads both configs, builds the good and the bad kernel, and returns the
// builder and the options that differ.
func NewBuilder(ctx context.Context, o Options) (*Builder, []string, error) {
	if o.Target == "" {
		o.Target = "bzImage"
	}
	if o.Kernel == "" {
		o.Kernel = "arch/x86/boot/bzImage"
	}
	b := &Builder{o: o, Dropped: map[string]string{}}
	var err error
	if b.good, err = kconfig.ReadFile(o.Good); err != nil {
		return nil, nil, fmt.Errorf("%w: --good: %v", ErrInput, err)
	}
	if b.bad, err = kconfig.ReadFile(o.Bad); err != nil {
		return nil, nil, fmt.Errorf("%w: --bad: %v", ErrInput, err)
	}
	diff := kconfig.Diff(b.good, b.bad)
	if len(diff) == 0 {
		return nil, nil, fmt.Errorf("%w: %s and %s set every option alike", ErrInput, o.Good, o.Bad)
	}
	for _, d := range []string{o.Out, filepath.Join(o.Work, "builds")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, nil, err
		}
	}
	b.logf("%d options differ", len(diff))
	k, _, err := b.build(ctx, b.good, "good")
	if err != nil {
		return nil, nil, fmt.Errorf("the good config: %w", err)
	}
	if b.boot.Good, err = o.Prepare(ctx, k); err != nil {
		return nil, nil, err
	}
	if k, _, err = b.build(ctx, b.bad, "bad"); err != nil {
		return nil, nil, fmt.Errorf("the bad config: %w", err)
	}
	if b.boot.Bad, err = o.Prepare(ctx, k); err != nil {
		return nil, nil, err
	}
	return b, diff, nil
}

func (b *Builder) logf(format string, a ...any) {
	if b.o.Logf != nil {
		b.o.Logf(format, a...)
	}
}

// Builds returns the number of kernels built.
func (b *Builder) Builds() int { return b.builds }

// Test implements bisect.SetTester: the good config with the options in set as in the
// bad one.
func (b *Builder) Test(ctx context.Context, set []string, share float64) (bisect.StepResult, error) {
	want := kconfig.Apply(b.good, b.bad, set)
	k, got, err := b.build(ctx, want, fmt.Sprintf("%d options", len(set)))
	if errors.Is(err, errBuild) {
		return bisect.StepResult{Verdict: bisect.Skipped, Reason: err.Error(), Share: share}, nil
	}
	if err != nil {
		return bisect.StepResult{}, err
	}
	var lost []string
	for _, name := range set {
		if v := got.Get(name); v != want.Get(name) {
			b.Dropped[name] = v
			lost = append(lost, fmt.Sprintf("%s=%s became %s", name, want.Get(name), v))
		}
	}
	if len(lost) > 0 {
		b.logf("olddefconfig did not keep %s", strings.Join(lost, ", "))
	}
	if b.boot.Candidate, err = b.o.Prepare(ctx, k); err != nil {
		return bisect.StepResult{}, err
	}
	sr, err := bisect.RunStep(ctx, b.o.Bisect, share, &b.boot, &b.refs, nil, nil)
	if err == nil {
		b.logf("  %d options (%s): %s: %s (%d runs, %.0f VM-s)", len(set), bisect.Abbreviate(set), sr.Verdict, sr.Reason, len(sr.Runs), sr.VM)
	}
	return sr, err
}

var errBuild = errors.New("build failed")

// build writes c as the build directory's .config, runs olddefconfig and the build, and
// returns a copy of the kernel and the config as olddefconfig left it.
func (b *Builder) build(ctx context.Context, c *kconfig.Config, what string) (string, *kconfig.Config, error) {
	b.rounds++
	n := b.rounds
	dotConfig := filepath.Join(b.o.Out, ".config")
	f, err := os.Create(dotConfig)
	if err != nil {
		return "", nil, err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		return "", nil, err
	}
	start := time.Now()
	base := append(slices.Clone(b.o.Make), "-C", b.o.Src, "O="+b.o.Out)
	logPath := filepath.Join(b.o.Work, "builds", fmt.Sprintf("%03d.make.log", n))
	if err := kbuild.Run(ctx, b.o.Out, append(base, "olddefconfig"), nil, logPath+".olddefconfig"); err != nil {
		return "", nil, fmt.Errorf("%w: olddefconfig: %v (log %s)", errBuild, err, logPath+".olddefconfig")
	}
	got, err := kconfig.ReadFile(dotConfig)
	if err != nil {
		return "", nil, err
	}
	var sb strings.Builder
	got.WriteTo(&sb)
	h := sha256.Sum256([]byte(sb.String()))
	dir := filepath.Join(b.o.Work, "kernels", hex.EncodeToString(h[:8]))
	dst := filepath.Join(dir, "bzImage")
	if _, err := os.Stat(dst); err == nil {
		b.logf("build %d (%s): olddefconfig made a config built before", n, what)
		return dst, got, nil
	}
	b.builds++
	err = kbuild.Run(ctx, b.o.Out, append(base, b.o.Target), nil, logPath)
	b.BuildTime += time.Since(start)
	if ctx.Err() != nil {
		return "", nil, ctx.Err()
	}
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v (log %s)", errBuild, err, logPath)
	}
	b.logf("build %d (%s): %s", n, what, time.Since(start).Round(time.Second))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	if err := kbuild.Copy(filepath.Join(b.o.Out, b.o.Kernel), dst); err != nil {
		return "", nil, fmt.Errorf("%w: no kernel after the build: %v", errBuild, err)
	}
	return dst, got, atomicfile.WriteBytes(filepath.Join(dir, "config"), 0o600, []byte(sb.String()))
}
