package guestbin

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/reproducer"
	"github.com/crashrig/crashrig/reproducer/builtin"
)

func TestBuildCacheAndOverride(t *testing.T) {
	t.Setenv("CRASHRIG_GUEST", "")
	dir := t.TempDir()
	var logs []string
	b := Builder{CacheDir: dir, Logf: func(f string, a ...any) { logs = append(logs, f) }}
	p, err := b.Path(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(p)
	if err != nil {
		t.Fatalf("guest binary: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		t.Errorf("guest is %v %v, want a static x86-64 executable", f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("guest binary is dynamically linked")
		}
	}
	again, err := b.Path(context.Background())
	if err != nil || again != p || len(logs) != 1 {
		t.Errorf("second Path = %q, %v after %d builds; want the cached %q after 1", again, err, len(logs), p)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("cache holds %d entries, want the one binary (no temporary files)", len(es))
	}
	t.Setenv("CRASHRIG_GUEST", "/opt/guest")
	if p, _ := b.Path(context.Background()); p != "/opt/guest" {
		t.Errorf("CRASHRIG_GUEST ignored: %q", p)
	}
}

func TestMissingToolchain(t *testing.T) {
	t.Setenv("CRASHRIG_GUEST", "")
	_, err := Builder{CacheDir: t.TempDir(), Go: filepath.Join(t.TempDir(), "no-go")}.Path(context.Background())
	if err == nil || !strings.Contains(err.Error(), "CRASHRIG_GUEST") {
		t.Errorf("Path with no toolchain: %v, want an error that names CRASHRIG_GUEST", err)
	}
}

// TestStandalone builds a built-in as its own program, runs it on the host
// and checks that a second call finds it in the cache.
func TestStandalone(t *testing.T) {
	dir := t.TempDir()
	var logs []string
	b := Builder{CacheDir: dir, Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
	ctx := context.Background()
	bin, err := b.Standalone(ctx, "selftest")
	if err != nil {
		t.Fatal(err)
	}
	if bin.Cached || len(logs) != 1 || !strings.Contains(logs[0], "built-in selftest as its own program") {
		t.Errorf("first build: cached %v, logs %q", bin.Cached, logs)
	}
	if err := repro.CheckStatic("reproducer", bin.Path); err != nil {
		t.Error(err)
	}
	// Its arguments reach Main and its status is the program's.
	err = exec.Command(bin.Path, "-mode", "exit", "-code", "7").Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Errorf("selftest -mode exit -code 7: %v, want exit status 7", err)
	}
	again, err := b.Standalone(ctx, "selftest")
	if err != nil || !again.Cached || again.Path != bin.Path || len(logs) != 1 {
		t.Errorf("second call = %+v, %v after %d builds; want the cached %s", again, err, len(logs), bin.Path)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("cache holds %d entries, want the one program", len(es))
	}
}

func TestStandaloneRefuses(t *testing.T) {
	b := Builder{CacheDir: t.TempDir()}
	tests := []struct {
		name, builtin, goCmd, errText string
	}{
		{"not a built-in", "nosuch", "", `no built-in reproducer "nosuch"`},
		{"no toolchain", "selftest", filepath.Join(t.TempDir(), "no-go"), "no usable Go toolchain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Go = tt.goCmd
			if _, err := b.Standalone(context.Background(), tt.builtin); err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("Standalone: %v, want an error with %q", err, tt.errText)
			}
		})
	}
}

// Every built-in has a package of its name with a Main a standalone main can call.
func TestStandalonePackages(t *testing.T) {
	for _, in := range builtin.List {
		if _, err := fs.Stat(reproducer.Source, in.Name); err != nil {
			t.Errorf("built-in %s: no package reproducer/%s", in.Name, in.Name)
		}
		if !strings.Contains(string(StandaloneMain(in.Name)), `"github.com/crashrig/crashrig/reproducer/`+in.Name+`"`) {
			t.Errorf("StandaloneMain(%s) does not import its package", in.Name)
		}
	}
}
