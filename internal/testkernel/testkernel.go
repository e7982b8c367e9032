// Package testkernel finds the real kernel that tests boot: the path in
// $CRASHRIG_TEST_KERNEL, or the one scripts/fetch-test-kernel fetches
// (Debian's cloud kernel). Tests that boot call Path; under -short they are
// skipped, otherwise a missing kernel fails them: a skipped boot test must
// never look like a passing one.
package testkernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
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
