package gonofix

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var nanotime = Patches[0]

func TestApply(t *testing.T) {
	const fn = "TEXT runtime·nanotime1(SB),NOSPLIT,$16-8\n"
	tests := []struct {
		name    string
		src     string
		want    string // "" = an error
		line    int
		errText string
	}{
		{
			name: "go1.26",
			src:  "TEXT runtime·other(SB)\n\tJNE\tnoswitch\n" + fn + "\tCMPQ\tR14, m_curg(BX)\n\tJNE\tnoswitch\n\nnoswitch:\n\tRET\nTEXT runtime·later(SB)\n\tJNE\tnoswitch\n",
			want: "TEXT runtime·other(SB)\n\tJNE\tnoswitch\n" + fn + "\tCMPQ\tR14, m_curg(BX)\n\tJMP\tnoswitch\n\nnoswitch:\n\tRET\nTEXT runtime·later(SB)\n\tJNE\tnoswitch\n",
			line: 5,
		},
		{
			name: "last line of the file",
			src:  fn + "\tJNE\tnoswitch\n",
			want: fn + "\tJMP\tnoswitch\n",
			line: 2,
		},
		{
			name:    "no such function",
			src:     "TEXT runtime·walltime(SB)\n\tJNE\tnoswitch\n",
			errText: `no "TEXT runtime·nanotime1(SB)"`,
		},
		{
			name:    "jump only in another function",
			src:     fn + "\tRET\nTEXT runtime·other(SB)\n\tJNE\tnoswitch\n",
			errText: `no "JNE\tnoswitch" in TEXT runtime·nanotime1(SB)`,
		},
		{
			name:    "already patched",
			src:     fn + "\tJMP\tnoswitch\n",
			errText: "no",
		},
		{
			name:    "twice in the function",
			src:     fn + "\tJNE\tnoswitch\n\tJNE\tnoswitch\n",
			errText: "more than once",
		},
		{
			name:    "function twice",
			src:     fn + "\tJNE\tnoswitch\n" + fn,
			errText: "defined twice",
		},
		{
			name:    "another register or label",
			src:     fn + "\tJNE\tnoswitch2\n\tJEQ\tnoswitch\n",
			errText: "no",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, line, err := Apply([]byte(tt.src), nanotime)
			if tt.want == "" {
				if !errors.Is(err, ErrUnexpected) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("Apply: %v, want ErrUnexpected mentioning %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(out)); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
			if line != tt.line {
				t.Errorf("line %d, want %d", line, tt.line)
			}
		})
	}
}

// hostGoroot is the test's own toolchain, which the patches fit when it
// is Go 1.26.
func hostGoroot(t *testing.T) string {
	t.Helper()
	if !strings.HasPrefix(runtime.Version(), "go1.26") {
		t.Skipf("the patches are for Go 1.26's runtime; this is %s", runtime.Version())
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestChangesHostToolchain(t *testing.T) {
	cs, err := Changes(hostGoroot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d changes, want 2", len(cs))
	}
	for _, c := range cs {
		orig, patched := strings.Split(string(c.Original), "\n"), strings.Split(string(c.Patched), "\n")
		var diff []int
		for i := range orig {
			if orig[i] != patched[i] {
				diff = append(diff, i+1)
			}
		}
		if len(orig) != len(patched) || len(diff) != 1 || diff[0] != c.Line {
			t.Errorf("%s: changed lines %v of %d→%d, want only line %d", c.File, diff, len(orig), len(patched), c.Line)
		}
	}
}

func TestRefusesOtherRuntime(t *testing.T) {
	root := t.TempDir()
	for _, p := range Patches {
		f := filepath.Join(root, filepath.FromSlash(p.File))
		os.MkdirAll(filepath.Dir(f), 0o755)
		// Go 1.8's nanotime never switched stacks: no JNE to change.
		os.WriteFile(f, []byte(p.Func+",NOSPLIT,$16\n\tMOVQ\tSP, BP\n\tRET\n"), 0o644)
	}
	if _, err := Changes(root); !errors.Is(err, ErrUnexpected) {
		t.Errorf("Changes: %v, want ErrUnexpected", err)
	}
	if _, err := Changes(t.TempDir()); !errors.Is(err, ErrUnexpected) {
		t.Errorf("Changes of an empty GOROOT: %v, want ErrUnexpected", err)
	}
}

// TestToolchain copies the host's toolchain (~270 MB), builds a program
// with the copy and with the original, and reads the two branches back
// from the machine code.
func TestToolchain(t *testing.T) {
	if testing.Short() {
		t.Skip("copies a whole GOROOT and rebuilds the runtime")
	}
	goroot := hostGoroot(t)
	cs, err := Changes(goroot)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cache := t.TempDir()
	patched, err := Toolchain(ctx, "go", cache)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := Toolchain(ctx, "go", cache); err != nil || again != patched {
		t.Fatalf("second call: %q, %v; want the cached %q", again, err, patched)
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 1 {
		t.Errorf("cache holds %d entries, want the one copy", len(ents))
	}

	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/clock\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport (\"fmt\"; \"time\")\n\nfunc main() { fmt.Println(time.Now()) }\n"), 0o644)
	for _, tc := range []struct {
		name, goCmd, want string
	}{
		{"stock", "go", "JNE"},
		{"patched", patched, "JMP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "clock")
			build := exec.Command(tc.goCmd, "build", "-o", bin, ".")
			build.Dir, build.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build: %v\n%s", err, out)
			}
			out, err := exec.Command(tc.goCmd, "tool", "objdump", "-s", "runtime.nanotime1|time.now", bin).Output()
			if err != nil {
				t.Fatalf("objdump: %v", err)
			}
			for _, c := range cs {
				loc := path.Base(c.File) + ":" + strconv.Itoa(c.Line)
				if got := instructionAt(string(out), loc); got != tc.want {
					t.Errorf("%s: %q, want %s", loc, got, tc.want)
				}
			}
		})
	}
}

// instructionAt returns the mnemonic `go tool objdump` prints for the
// source location loc ("file.s:261").
func instructionAt(objdump, loc string) string {
	for _, l := range strings.Split(objdump, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[0] == loc {
			return f[3]
		}
	}
	return ""
}
