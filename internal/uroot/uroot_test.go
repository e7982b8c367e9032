package uroot

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/gobuild"
	"github.com/crashrig/crashrig/internal/xdg"
)

// TestModuleTidy checks that the embedded go.mod and go.sum are what `go
// mod tidy` makes of tools.go: adding a command to Commands needs them
// regenerated (write the module with WriteModule, run go mod tidy, copy
// go.mod and go.sum to module/*.txt).
func TestModuleTidy(t *testing.T) {
	dir := t.TempDir()
	if err := WriteModule(dir); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "mod", "tidy", "-diff")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "module lookup disabled") {
		t.Skipf("u-root's modules are not all in the module cache: %s", out)
	}
	if err != nil {
		t.Errorf("go mod tidy -diff: %v\n%s", err, out)
	}
}

// TestFiles builds the base (once per Go version: the cache is crashrig's
// own, keyed by content) and checks its layout.
func TestFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds u-root from source; skipped with -short")
	}
	start := time.Now()
	files, err := Builder{CacheDir: filepath.Join(xdg.CacheDir(), "uroot"), Logf: t.Logf}.Files(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files in %v", len(files), time.Since(start))
	got := map[string]string{}
	size := 0
	for _, f := range files {
		got[f.Path] = f.Link
		size += len(f.Data)
	}
	for p, want := range map[string]string{"/bbin/bb": "", "/bbin/gosh": "bb", "/bin/ls": "/bbin/bb", "/bin/poweroff": "/bbin/bb"} {
		if l, ok := got[p]; !ok || l != want {
			t.Errorf("%s -> %q (present %v), want -> %q", p, l, ok, want)
		}
	}
	if l := got["/bin/sh"]; !strings.HasSuffix(l, "gosh") {
		t.Errorf("/bin/sh -> %q, want gosh", l)
	}
	for p := range got {
		if p == "/init" || strings.HasPrefix(p, "/dev/") || p == "/bin/uinit" {
			t.Errorf("the base carries %s: crashrig provides its own", p)
		}
	}
	if size < 1<<20 {
		t.Errorf("base holds %d bytes, want a busybox binary of a few MB", size)
	}
}

func TestNoToolchain(t *testing.T) {
	_, err := Builder{Go: "/nonexistent/go", CacheDir: t.TempDir()}.Files(context.Background())
	if !errors.Is(err, gobuild.ErrToolchain) || !strings.Contains(err.Error(), "needs Go 1.24 or later") {
		t.Errorf("Files with no toolchain: %v", err)
	}
}
