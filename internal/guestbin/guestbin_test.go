package guestbin

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
