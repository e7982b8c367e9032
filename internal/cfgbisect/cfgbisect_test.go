package cfgbisect

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/bisect"
	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/testkernel"
)

// TestRealConfig bisects two configs of the seed tree with real builds and boots. The bad
// config is the seed's (MAGIC_SYSRQ and its three dependents set) plus IKCONFIG and
// IKCONFIG_PROC; the good one has neither sysrq nor IKCONFIG. The reproducer crashes the
// kernel through /proc/sysrq-trigger, which only MAGIC_SYSRQ provides, so the minimal set
// is {MAGIC_SYSRQ}; on the way IKCONFIG_PROC is tried without IKCONFIG, and olddefconfig
// drops it, which the builder must record. It builds in the seed build directory and puts
// the seed config back at the end.
func TestRealConfig(t *testing.T) {
	// Four full kernel builds: a quarter of an hour on two cores, too long for
	// the test command's budget; the object search covers the same builder.
	if os.Getenv("CRASHRIG_SLOW_TESTS") != "1" {
		t.Skip("about 15 minutes of kernel builds: CRASHRIG_SLOW_TESTS=1 runs it (docs/bisect.md)")
	}
	src, out := testkernel.SeedTree(t)
	testkernel.Path(t)
	tmp := t.TempDir()
	dotConfig := filepath.Join(out, ".config")
	seed, err := os.ReadFile(dotConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(dotConfig, seed, 0o644); err != nil {
			t.Errorf("restoring %s: %v", dotConfig, err)
		}
	})
	bad := strings.Replace(string(seed), "# CONFIG_IKCONFIG is not set\n", "CONFIG_IKCONFIG=y\nCONFIG_IKCONFIG_PROC=y\n", 1)
	var good []string
	for _, l := range strings.Split(string(seed), "\n") {
		switch {
		case l == "CONFIG_MAGIC_SYSRQ=y":
			good = append(good, "# CONFIG_MAGIC_SYSRQ is not set")
		case strings.HasPrefix(l, "CONFIG_MAGIC_SYSRQ_"):
		default:
			good = append(good, l)
		}
	}
	goodPath, badPath := filepath.Join(tmp, "good.config"), filepath.Join(tmp, "bad.config")
	os.WriteFile(goodPath, []byte(strings.Join(good, "\n")), 0o600)
	os.WriteFile(badPath, []byte(bad), 0o600)
	script := filepath.Join(tmp, "sysrq.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 0.5\necho c > /proc/sysrq-trigger\nsleep 30\n"), 0o755)
	prog, err := repro.Resolve(script, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := bisect.Config{Limit: 3}
	o := Options{
		Src: src, Out: out, Good: goodPath, Bad: badPath, Make: []string{"nice", "-n", "15", "make", "-j2"},
		Work: filepath.Join(tmp, "work"), Bisect: cfg, Logf: t.Logf,
		Prepare: func(ctx context.Context, kernel string) (bisect.Booter, error) {
			ro := run.Options{Kernel: kernel, Repro: prog, Duration: 3 * time.Second, SMP: 1, Memory: 256,
				LogDir: filepath.Join(tmp, "logs")}
			ro.Image.Base = image.BaseBusybox
			return run.Prepare(ctx, ro)
		},
	}
	start := time.Now()
	b, diff, err := NewBuilder(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("options that differ: %q", diff)
	res, err := bisect.Minimal(context.Background(), cfg, diff, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kernels built in %s, %d steps, %.0f VM-s, %s in all; confidence %.3f; dropped %v", b.Builds(),
		b.BuildTime.Round(time.Second), len(res.Steps), res.VM, time.Since(start).Round(time.Second), res.Confidence, b.Dropped)
	for _, s := range res.Steps {
		t.Logf("  %q: %s: %s (%d runs)", s.Set, s.Verdict, s.Reason, len(s.Runs))
	}
	if want := []string{"MAGIC_SYSRQ"}; !res.Exact || !slices.Equal(res.Culprits, want) {
		t.Fatalf("options %q (exact %v: %s), want %q", res.Culprits, res.Exact, res.Reason, want)
	}
	if _, ok := b.Dropped["IKCONFIG_PROC"]; !ok {
		t.Errorf("IKCONFIG_PROC without IKCONFIG not reported as dropped: %v", b.Dropped)
	}
}
