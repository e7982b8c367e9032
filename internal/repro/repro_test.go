package repro

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// staticProgram builds a tiny static program and returns its path.
func staticProgram(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src", "main.go")
	os.MkdirAll(filepath.Dir(src), 0o755)
	os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644)
	bin := filepath.Join(dir, "prog")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// inputs lays out one of each kind of reproducer and some bad ones.
func inputs(t *testing.T) string {
	dir := t.TempDir()
	staticProgram(t, dir)
	files := map[string]string{
		"repro.sh":            "echo no shebang but a .sh name\n",
		"script":              "#!/bin/sh\necho hi\n",
		"data.txt":            "just data\n",
		"gopkg/main.go":       "package main\n\nfunc main() {}\n",
		"gopkg/main_test.go":  "package main\n",
		"onlytests/x_test.go": "package x\n",
		"empty/.keep":         "",
	}
	for p, c := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(c), 0o755)
	}
	return dir
}

func TestResolve(t *testing.T) {
	dir := inputs(t)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(dir)
	tests := []struct {
		arg      string
		kind     Kind
		name     string
		guest    string
		errMatch string // "" = no error
	}{
		{"go20427", KindBuiltin, "go20427", "go20427", ""},
		{"./prog", KindELF, "prog", "/repro/prog", ""},
		{"./script", KindScript, "script", "/repro/script", ""},
		{"repro.sh", KindScript, "repro.sh", "/repro/repro.sh", ""},
		{"./gopkg", KindGo, "gopkg", "/repro/gopkg", ""},
		{"gopkg", KindGo, "gopkg", "/repro/gopkg", ""},
		{"example.com/x/cmd/myrepro", KindGo, "myrepro", "/repro/myrepro", ""},
		{"", "", "", "", "no reproducer given"},
		{"nosuch", "", "", "", "no such built-in or file"},
		{"nosuch.sh", "", "", "", "no such built-in or file"},
		{"example.com/x/run.sh", "", "", "", "run.sh: no such file or directory"},
		{"./missing", "", "", "", "missing: no such file or directory"},
		{"./data.txt", "", "", "", "not an ELF executable"},
		{"/bin/ls", "", "", "", "dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2)"},
		{"./onlytests", "", "", "", "a directory without a Go package"},
		{"./empty", "", "", "", "a directory without a Go package"},
	}
	for _, tt := range tests {
		r, err := Resolve(tt.arg, []string{"a"})
		if tt.errMatch != "" {
			if err == nil || !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.errMatch) {
				t.Errorf("Resolve(%q) = %+v, %v; want an input error with %q", tt.arg, r, err, tt.errMatch)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.arg, err)
			continue
		}
		got := []string{string(r.Kind()), r.Name(), r.GuestPath()}
		if diff := cmp.Diff([]string{string(tt.kind), tt.name, tt.guest}, got); diff != "" || len(r.Args) != 1 {
			t.Errorf("Resolve(%q) kind, name, guest path (-want +got):\n%s", tt.arg, diff)
		}
		if r.Path != "" && !filepath.IsAbs(r.Path) || r.Kind() == KindGo && strings.HasPrefix(r.Go, ".") {
			t.Errorf("Resolve(%q) = %+v: paths must be absolute", tt.arg, r)
		}
	}
}

func TestWithGo(t *testing.T) {
	tests := []struct {
		name       string
		r          Program
		goCmd      string
		standalone bool
		guest      string
	}{
		{"built-in, host Go", Program{Builtin: "go20427"}, "", false, "go20427"},
		{"built-in, --go", Program{Builtin: "go20427"}, "/opt/go-nofix/bin/go", true, "/repro/go20427"},
		{"Go package, --go", Program{Go: "/src/repro"}, "/opt/go/bin/go", false, "/repro/repro"},
		{"ELF, --go", Program{Path: "/bin/prog"}, "go", false, "/repro/prog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r.WithGo(tt.goCmd)
			if r.Standalone != tt.standalone || r.GuestPath() != tt.guest || r.Kind() != tt.r.Kind() || r.Name() != tt.r.Name() {
				t.Errorf("WithGo(%q) = %+v: standalone %v, guest path %q, kind %s; want %v, %q, %s",
					tt.goCmd, r, r.Standalone, r.GuestPath(), r.Kind(), tt.standalone, tt.guest, tt.r.Kind())
			}
		})
	}
}
