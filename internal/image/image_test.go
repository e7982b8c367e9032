package image

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/internal/guestbin"
	"github.com/crashrig/crashrig/internal/repro"
)

// staticProgram is crashrig's real guest binary (a static x86-64 program),
// copied to dir/prog so listings name it the same way every time.
func staticProgram(t *testing.T, dir string) string {
	t.Helper()
	guest, err := guestbin.Builder{CacheDir: filepath.Join(dir, "cache")}.Path(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(guest)
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "prog")
	if err := os.WriteFile(prog, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return prog
}

// inputs lays out a script, a data file and a Go package (repro's tests cover
// every kind of reproducer).
func inputs(t *testing.T) string {
	dir := t.TempDir()
	for p, c := range map[string]string{"script": "#!/bin/sh\necho hi\n", "data.txt": "just data\n",
		"gopkg/main.go": "package main\n\nfunc main() {}\n"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(c), 0o755)
	}
	return dir
}

func TestValidate(t *testing.T) {
	dir := inputs(t)
	script := repro.Program{Path: filepath.Join(dir, "script"), Script: true}
	tests := []struct {
		name string
		o    Options
		err  string
	}{
		{"script on minimal", Options{Repro: script}, "is not an ELF executable but a script: it needs a base with a shell"},
		{"script on busybox", Options{Repro: script, Base: BaseBusybox}, ""},
		{"script on u-root", Options{Repro: script, Base: BaseURoot}, ""},
		{"unknown base", Options{Base: "alpine"}, `--base "alpine": want minimal, busybox, u-root`},
		{"unknown init script", Options{Base: BaseBusybox, InitScript: "systemd"}, `--init-script "systemd"`},
		{"seed without shell", Options{InitScript: InitSeed}, "--init-script seed is a shell script"},
		{"add missing", Options{Add: []Add{{Host: filepath.Join(dir, "nope"), Guest: "/x"}}}, "nope: no such file or directory"},
		{"add relative guest", Options{Add: []Add{{Host: dir, Guest: "x"}}}, "the guest path must be absolute"},
	}
	for _, tt := range tests {
		err := tt.o.Validate()
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.err)
		}
	}
	if a, err := ParseAdd("./data"); err == nil || a.Guest != "/data" {
		t.Errorf("ParseAdd(./data) = %+v, %v; want guest /data and a missing-file error", a, err)
	}
}

// listing is an archive's entries as "path kind detail".
func listing(t *testing.T, s initramfs.Spec) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, f := range s.Files {
		switch {
		case f.Link != "":
			got[f.Path] = "-> " + f.Link
		case f.Dir:
			got[f.Path] = "dir"
		case f.Src != "":
			got[f.Path] = "file " + filepath.Base(f.Src)
		default:
			got[f.Path] = "data"
		}
	}
	return got
}

func TestSpec(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs Debian's busybox-static")
	}
	dir := inputs(t)
	guest := staticProgram(t, t.TempDir())
	os.MkdirAll(filepath.Join(dir, "tree", "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "tree", "sub", "f"), []byte("x"), 0o600)
	os.Symlink("sub/f", filepath.Join(dir, "tree", "link"))
	ctx := context.Background()
	script := repro.Program{Path: filepath.Join(dir, "script"), Script: true, Args: []string{"it's", "b"}}
	tests := []struct {
		name string
		o    Options
		want map[string]string // entries that must be there
		not  []string          // entries that must not
	}{
		{"minimal", Options{Repro: repro.Program{Builtin: "go20427"}},
			map[string]string{"/init": "file prog", "/bin/true": "-> /init", "/bin/go20427": "-> /init"},
			[]string{"/bin/sh", "/bin/busybox"}},
		{"busybox with a script and added files", Options{Base: BaseBusybox, Repro: script,
			Add: []Add{{Host: filepath.Join(dir, "tree"), Guest: "/data"}, {Host: filepath.Join(dir, "data.txt"), Guest: "/etc/x.txt"}}},
			map[string]string{"/init": "file prog", "/bin/true": "-> /init", "/bin/sh": "-> busybox", "/bin/busybox": "file busybox",
				"/repro/script": "file script", "/data": "dir", "/data/sub": "dir", "/data/sub/f": "file f", "/data/link": "-> sub/f",
				"/etc/x.txt": "file data.txt"},
			[]string{"/bin/init"}},
		{"seed", Options{Base: BaseBusybox, InitScript: InitSeed, Repro: repro.Program{Builtin: "selftest", Args: []string{"-mode", "panic"}}},
			map[string]string{"/init": "data", GuestName: "file prog", "/bin/selftest": "-> " + GuestName, "/bin/true": "-> " + GuestName},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Guest, tt.o.CacheDir = guest, t.TempDir()
			s, err := Spec(ctx, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			got := listing(t, s)
			for p, w := range tt.want {
				if got[p] != w {
					t.Errorf("%s = %q, want %q", p, got[p], w)
				}
			}
			for _, p := range tt.not {
				if _, ok := got[p]; ok {
					t.Errorf("%s is in the image", p)
				}
			}
			// The archive is reproducible and holds no host path.
			var a, b bytes.Buffer
			if err := initramfs.Write(&a, s); err != nil {
				t.Fatal(err)
			}
			s2, _ := Spec(ctx, tt.o)
			initramfs.Write(&b, s2)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("two builds of the same image differ")
			}
			raw := uncompressed(t, s)
			if bytes.Contains(raw, []byte(dir)) {
				t.Errorf("the archive holds the host path %s", dir)
			}
		})
	}
	seed, _ := Spec(ctx, Options{Guest: guest, Base: BaseBusybox, InitScript: InitSeed,
		Repro: script})
	for _, f := range seed.Files {
		if f.Path == "/init" && !strings.Contains(string(f.Data), "\n/bin/sh /repro/script 'it'\\''s' b\nret=$?\n") {
			t.Errorf("seed init does not run the script with its arguments:\n%s", f.Data)
		}
	}
	if _, err := Spec(ctx, Options{Guest: guest, Repro: repro.Program{Builtin: "go20427"}, Add: []Add{{Host: guest, Guest: "/init"}}}); err == nil {
		t.Error("--add over /init was accepted")
	}
}

func uncompressed(t *testing.T, s initramfs.Spec) []byte {
	s.Compression = "none"
	var b bytes.Buffer
	if err := initramfs.Write(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSpecGoPackage(t *testing.T) {
	dir := inputs(t)
	guest := staticProgram(t, t.TempDir())
	var logs []string
	o := Options{Guest: guest, CacheDir: t.TempDir(), Repro: repro.Program{Go: filepath.Join(dir, "gopkg")},
		Logf: func(f string, a ...any) { logs = append(logs, f) }}
	for i := 0; i < 2; i++ {
		s, err := Spec(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if got := listing(t, s)["/repro/gopkg"]; !strings.HasPrefix(got, "file gopkg-") {
			t.Errorf("/repro/gopkg = %q, want the built program", got)
		}
		if bytes.Contains(uncompressed(t, s), []byte(dir)) {
			t.Errorf("the archive holds the host path %s", dir)
		}
	}
	if len(logs) != 2 || !strings.HasPrefix(logs[0], "building") || !strings.Contains(logs[1], "(cached)") {
		t.Errorf("logged %q, want one build, then the cached program", logs)
	}
	o.Go = "/nonexistent/bin/go"
	if _, err := Spec(context.Background(), o); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "--go /nonexistent/bin/go") {
		t.Errorf("missing toolchain: %v, want an input error naming it", err)
	}
	o.Go, o.Repro = "", repro.Program{Go: filepath.Join(dir, "onlytests")}
	if _, err := Spec(context.Background(), o); !errors.Is(err, ErrInput) {
		t.Errorf("package without a program: %v, want an input error", err)
	}
}

// A built-in with --go is its own program in /repro; the guest stays /init.
func TestSpecStandalone(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs Debian's busybox-static")
	}
	guest := staticProgram(t, t.TempDir())
	r := repro.Program{Builtin: "selftest", Args: []string{"-mode", "pass"}}.WithGo("go")
	tests := []struct {
		name string
		o    Options
		want map[string]string
	}{
		{"minimal", Options{Repro: r},
			map[string]string{"/init": "file prog", "/bin/selftest": "-> /init"}},
		{"seed", Options{Repro: r, Base: BaseBusybox, InitScript: InitSeed},
			map[string]string{"/init": "data", GuestName: "file prog"}},
	}
	cache := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Guest, tt.o.Go, tt.o.CacheDir = guest, "go", cache
			s, err := Spec(context.Background(), tt.o)
			if err != nil {
				t.Fatal(err)
			}
			got := listing(t, s)
			for p, w := range tt.want {
				if got[p] != w {
					t.Errorf("%s = %q, want %q", p, got[p], w)
				}
			}
			if !strings.HasPrefix(got["/repro/selftest"], "file selftest-") {
				t.Errorf("/repro/selftest = %q, want the standalone program", got["/repro/selftest"])
			}
			for _, f := range s.Files {
				if f.Path == "/init" && f.Data != nil && !strings.Contains(string(f.Data), "\n/repro/selftest -mode pass\n") {
					t.Errorf("seed init does not run the standalone program:\n%s", f.Data)
				}
			}
		})
	}
}
