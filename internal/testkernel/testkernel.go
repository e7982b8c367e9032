// Package testkernel finds the real kernel that tests boot: the path in
// $CRASHRIG_TEST_KERNEL, or the one scripts/fetch-test-kernel fetches
// (Debian's cloud kernel). Tests that boot call Path; under -short they are
// skipped, otherwise a missing kernel fails them: a skipped boot test must
// never look like a passing one.
package testkernel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var fetched = sync.OnceValues(func() (string, error) {
	if p := os.Getenv("CRASHRIG_TEST_KERNEL"); p != "" {
		return p, nil
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "fetch-test-kernel")
	out, err := exec.Command(script).Output()
	return strings.TrimSpace(string(out)), err
})

// Path returns the test kernel's path, skipping the test under -short.
func Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a real kernel; skipped with -short")
	}
	p, err := fetched()
	if err != nil || p == "" {
		t.Fatalf("no test kernel: set CRASHRIG_TEST_KERNEL or run scripts/fetch-test-kernel (%v)", err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test kernel: %v", err)
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Fatalf("qemu-system-x86_64 not installed (scripts/install-deps)")
	}
	return p
}

var seeds = sync.OnceValues(func() ([]string, error) {
	out := os.Getenv("CRASHRIG_SEED_KERNELS_OUT")
	if out == "" {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "build-seed-kernels")
		b, err := exec.Command(script).Output()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", script, err)
		}
		out = string(b)
	}
	return strings.Fields(out), nil
})

// Seed returns the seed kernels of scripts/build-seed-kernels: the clean
// one and the one whose vDSO has the story's stack probe. They come from
// $CRASHRIG_SEED_KERNELS_OUT (the script's output, as scripts/test sets
// it) or from running the script (cached after its first build).
func Seed(t testing.TB) (clean, probed string) {
	t.Helper()
	Path(t)
	p, err := seeds()
	if err != nil || len(p) != 2 {
		t.Fatalf("no seed kernels (run scripts/build-seed-kernels): %v %q", err, p)
	}
	return p[0], p[1]
}

var debug = sync.OnceValues(func() (string, error) {
	if p := os.Getenv("CRASHRIG_DEBUG_KERNEL"); p != "" {
		return p, nil
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "build-debug-kernel")
	b, err := exec.Command(script).Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	return strings.TrimSpace(string(b)), nil
})

// Debug returns the debug kernel of scripts/build-debug-kernel (lockdep,
// KFENCE, LKDTM, the pvpanic driver built in): $CRASHRIG_DEBUG_KERNEL, or
// the script's output (it builds the kernel on first use, then answers
// from its cache).
func Debug(t testing.TB) string {
	t.Helper()
	Path(t)
	p, err := debug()
	if err != nil || p == "" {
		t.Fatalf("no debug kernel (run scripts/build-debug-kernel): %v", err)
	}
	return p
}

// SeedTree returns the source and build directories scripts/build-seed-kernels keeps
// beside the seed kernels (linux-source-6.1 and its out-of-tree build), for tests that
// build kernels in them, and holds the script's lock until the test ends. A test builds in
// the build directory itself: a copy elsewhere would rebuild objtool (its build records
// absolute paths) and with it every object. It must leave the directory as a plain build
// of the seed config (the seed kernels themselves are kept apart, in clean/ and probed/).
// It skips the test under -short or when the tree is not there.
func SeedTree(t testing.TB) (src, build string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds kernels; skipped with -short")
	}
	clean, _ := Seed(t)
	dir := filepath.Dir(filepath.Dir(clean))
	src, build = filepath.Join(dir, "src"), filepath.Join(dir, "build")
	for _, p := range []string{filepath.Join(src, "Makefile"), filepath.Join(build, ".config")} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no seed kernel tree (scripts/build-seed-kernels keeps it): %v", err)
		}
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("seed tree lock: %v", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("seed tree lock: %v", err)
	}
	t.Cleanup(func() { lock.Close() })
	return src, build
}
