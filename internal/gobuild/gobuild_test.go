package gobuild

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeTree writes files (path → content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const mainGo = "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { println(lib.Hello()) }\n"

func testModule(t *testing.T) string {
	return writeTree(t, map[string]string{
		"go.mod":             "module example.com/m\n\ngo 1.22\n",
		"cmd/repro/main.go":  mainGo,
		"lib/lib.go":         "package lib\n\nfunc Hello() string { return \"one\" }\n",
		"lib/lib_test.go":    "package lib\n",
		"notes/unrelated.md": "changing me changes nothing\n",
	})
}

// builds counts the builds a Builder logs.
type builds struct{ n int }

func (b *builds) logf(format string, a ...any) {
	if strings.HasPrefix(format, "building") {
		b.n++
	}
}

func TestBuildAndCache(t *testing.T) {
	mod := testModule(t)
	var n builds
	b := Builder{CacheDir: t.TempDir(), Logf: n.logf}
	ctx := context.Background()
	pkg := filepath.Join(mod, "cmd", "repro")
	steps := []struct {
		name   string
		change func()
		cached bool
	}{
		{"first build", func() {}, false},
		{"unchanged", func() {}, true},
		{"test file and unrelated file changed", func() {
			os.WriteFile(filepath.Join(mod, "lib", "lib_test.go"), []byte("package lib\n// changed\n"), 0o644)
			os.WriteFile(filepath.Join(mod, "notes", "unrelated.md"), []byte("x"), 0o644)
		}, true},
		{"dependency in the module changed", func() {
			os.WriteFile(filepath.Join(mod, "lib", "lib.go"), []byte("package lib\n\nfunc Hello() string { return \"two\" }\n"), 0o644)
		}, false},
		{"go.mod changed", func() {
			os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/m\n\ngo 1.23\n"), 0o644)
		}, false},
		{"unchanged again", func() {}, true},
	}
	var paths []string
	for _, s := range steps {
		s.change()
		before := n.n
		bin, err := b.Build(ctx, pkg)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if bin.Cached != s.cached || (n.n > before) == s.cached {
			t.Errorf("%s: cached %v (builds logged %d), want cached %v", s.name, bin.Cached, n.n-before, s.cached)
		}
		if bin.Toolchain.Version != runtime.Version() {
			t.Errorf("%s: toolchain %q, want %q", s.name, bin.Toolchain.Version, runtime.Version())
		}
		paths = append(paths, bin.Path)
	}
	if paths[0] != paths[1] || paths[1] != paths[2] || paths[2] == paths[3] || paths[4] != paths[5] {
		t.Errorf("cache paths %v", paths)
	}
	checkStatic(t, paths[5], mod)
}

// checkStatic checks that a program is a static linux/amd64 ELF without
// the host directory it was built from.
func checkStatic(t *testing.T, p, hostDir string) {
	t.Helper()
	f, err := elf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, pr := range f.Progs {
		if pr.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked", p)
		}
	}
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("%s: machine %v", p, f.Machine)
	}
	data, _ := os.ReadFile(p)
	if bytes.Contains(data, []byte(hostDir)) {
		t.Errorf("%s holds the host path %s", p, hostDir)
	}
}

func TestOutsideModuleAndImportPath(t *testing.T) {
	ctx := context.Background()
	b := Builder{CacheDir: t.TempDir()}
	// A directory with no go.mod anywhere above: built from its files, like
	// `go run main.go`.
	loose := writeTree(t, map[string]string{"main.go": "package main\n\nfunc main() {}\n"})
	bin, err := b.Build(ctx, loose)
	if err != nil {
		t.Fatalf("loose directory: %v", err)
	}
	checkStatic(t, bin.Path, loose)
	// An import path, resolved from the current directory's module.
	mod := testModule(t)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(mod)
	if _, err := b.Build(ctx, "example.com/m/cmd/repro"); err != nil {
		t.Fatalf("import path: %v", err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	mod := writeTree(t, map[string]string{
		"go.mod":          "module example.com/e\n\ngo 1.22\n",
		"lib/lib.go":      "package lib\n",
		"broken/main.go":  "package main\n\nfunc main() { undefined() }\n",
		"cgo/main.go":     "package main\n\n// int f() { return 1; }\nimport \"C\"\n\nfunc main() { C.f() }\n",
		"missing/main.go": "package main\n\nimport \"example.com/nowhere/x\"\n\nfunc main() { x.F() }\n",
	})
	cache := t.TempDir()
	tests := []struct {
		name string
		b    Builder
		pkg  string
		want error
		msg  string
	}{
		{"no such toolchain", Builder{Go: "/nonexistent/go1.9/bin/go"}, filepath.Join(mod, "broken"), ErrToolchain, "--go /nonexistent/go1.9/bin/go: no such file or directory"},
		{"toolchain that is no go", Builder{Go: "/bin/true"}, filepath.Join(mod, "broken"), ErrToolchain, "/bin/true is no go command"},
		{"not a main package", Builder{}, filepath.Join(mod, "lib"), ErrPackage, "is package lib, not a main package"},
		{"compile error", Builder{}, filepath.Join(mod, "broken"), ErrPackage, "undefined: undefined"},
		{"cgo only", Builder{}, filepath.Join(mod, "cgo"), ErrPackage, "build constraints exclude all Go files"},
		{"missing dependency", Builder{}, filepath.Join(mod, "missing"), ErrPackage, "example.com/nowhere/x"},
		{"no such import path", Builder{}, "example.com/e/nope", ErrPackage, "example.com/e/nope"},
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(mod)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.b.CacheDir = cache
			_, err := tt.b.Build(ctx, tt.pkg)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Build(%s) = %v, want %v mentioning %q", tt.pkg, err, tt.want, tt.msg)
			}
		})
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 0 {
		t.Errorf("failed builds left %d files in the cache", len(ents))
	}
}

func TestMinor(t *testing.T) {
	for v, want := range map[string]int{"go1.26.8": 26, "go1.24rc1": 24, "go1.9.7": 9, "devel go1.27-abc": -1, "go2": -1} {
		if got := (Toolchain{Version: v}).Minor(); got != want {
			t.Errorf("Minor(%q) = %d, want %d", v, got, want)
		}
	}
}
