package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/cli.md")

// commands are the names of the user-facing commands.
func commands() []string {
	var names []string
	for _, c := range newRoot(nil, nil, nil, nil).Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return names
}

func readRepo(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHelpListsEveryCommand: the root help, the package manual (doc.go) and
// the README's command table name every command, so none is hidden from users.
func TestHelpListsEveryCommand(t *testing.T) {
	doc := readRepo(t, "cmd/crashrig/doc.go")
	readme := readRepo(t, "README.md")
	var help bytes.Buffer
	if code := crashrig(context.Background(), []string{"--help"}, nil, &help, &help); code != 0 {
		t.Fatalf("crashrig --help: status %d", code)
	}
	cmds := commands()
	if len(cmds) < 10 {
		t.Fatalf("only %d commands: %v", len(cmds), cmds)
	}
	for _, name := range cmds {
		if !regexp.MustCompile(`(?m)^  ` + name + ` +\S`).MatchString(manual) {
			t.Errorf("the root help's command list (manual in doc.go) lacks %q", name)
		}
		if !strings.Contains(help.String(), "  "+name+" ") {
			t.Errorf("crashrig --help does not list %q", name)
		}
		if !strings.Contains(doc, "//\tcrashrig "+name) {
			t.Errorf("doc.go's usage lines lack crashrig %s", name)
		}
		if !strings.Contains(readme, "| `crashrig "+name) {
			t.Errorf("the README's command table lacks crashrig %s", name)
		}
	}
}

// TestReference: docs/cli.md is what the commands' help says today.
func TestReference(t *testing.T) {
	var buf bytes.Buffer
	writeReference(&buf, newRoot(nil, nil, nil, nil))
	path := filepath.Join("..", "..", "docs", "cli.md")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := readRepo(t, "docs/cli.md"); got != buf.String() {
		t.Errorf("docs/cli.md is out of date: go test ./cmd/crashrig -run Reference -update")
	}
	for _, name := range commands() {
		if !strings.Contains(buf.String(), "\n## crashrig "+name+"\n") {
			t.Errorf("the reference lacks %s", name)
		}
	}
}

// TestVersion: --version names the build from the binary's build information.
func TestVersion(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "crashrig")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	goVer, _ := exec.Command("go", "env", "GOVERSION").Output()
	re := regexp.MustCompile(`^crashrig (\(devel\)|v\S+)( [0-9a-f]{12}(\+changes)?( \S+)?)? go\S+ linux/amd64\n$`)
	if !re.Match(out) || !bytes.Contains(out, bytes.TrimSpace(goVer)) {
		t.Errorf("crashrig --version = %q, want module version, revision and %s", out, bytes.TrimSpace(goVer))
	}
	// When the go command stamped a revision (a git checkout, git installed),
	// the version names it.
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`vcs\.revision=([0-9a-f]{12})`).FindSubmatch(meta); m != nil {
		if !bytes.Contains(out, m[1]) {
			t.Errorf("crashrig --version = %q does not name commit %s", out, m[1])
		}
	} else {
		t.Logf("the build carries no revision (not a git checkout, or no git): %q", out)
	}
}

// TestArchitectureNamesEveryPackage: docs/architecture.md says where each
// package lives and what it does, so a newcomer finds any concern's home.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	arch := readRepo(t, "docs/architecture.md")
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}", "github.com/crashrig/crashrig/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(p, "github.com/crashrig/crashrig/")
		if !strings.Contains(arch, "`"+rel+"`") {
			t.Errorf("docs/architecture.md does not name %s", rel)
		}
	}
}

func TestSplitWords(t *testing.T) {
	t.Setenv("CRASHRIG_TEST_N", "4")
	for in, want := range map[string][]string{
		`--smp 1`:                       {"--smp", "1"},
		`--env "A=b c" --append 'x=$y'`: {"--env", "A=b c", "--append", "x=$y"},
		`--smp $CRASHRIG_TEST_N a\ b`:   {"--smp", "4", "a b"},
		`--append x=*`:                  {"--append", "x=*"},
		``:                              nil,
	} {
		got, err := splitWords(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("splitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := splitWords(`--env "A=b`); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}

// TestLayering keeps the dependencies pointing one way (docs/architecture.md):
// the record, the store and the views link no qemu, image builder or runner;
// statistics and the console parser touch no store and no process.
func TestLayering(t *testing.T) {
	forbidden := map[string][]string{
		"internal/record":     {"qemu", "internal/run", "internal/image", "internal/store"},
		"internal/store":      {"qemu", "internal/run", "internal/image", "internal/uroot", "internal/gobuild", "internal/guestbin"},
		"internal/report":     {"qemu", "internal/run", "internal/image", "internal/uroot", "internal/gobuild", "internal/guestbin", "internal/compare", "internal/batch"},
		"internal/stats":      {"internal/store", "internal/run", "qemu"},
		"internal/sequential": {"internal/store", "internal/run", "qemu"},
		"internal/console":    {"internal/store", "internal/run", "qemu", "internal/verdict"},
		"reproducer/guest":    {"internal/"},
	}
	const mod = "github.com/crashrig/crashrig/"
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ok := strings.CutPrefix(dep, mod)
			if !ok {
				continue
			}
			for _, b := range bad {
				if rel == b || strings.HasPrefix(rel, b+"/") || strings.HasSuffix(b, "/") && strings.HasPrefix(rel, b) {
					t.Errorf("%s depends on %s", pkg, rel)
				}
			}
		}
	}
}
