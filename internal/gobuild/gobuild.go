// Package gobuild builds a Go main package into a program the guest can
// run: static (CGO_ENABLED=0), for linux/amd64 at the baseline ISA
// (GOAMD64=v1), with -trimpath so that no host path ends up in the image.
//
// The toolchain is the go command the caller names (crashrig's --go) or the
// one on PATH, and exactly that one: GOTOOLCHAIN=local stops a go.mod from
// switching to another version, since which Go built a program can be what
// makes it crash. Built programs are cached by the toolchain's version and
// a hash of the sources: every non-standard package the program imports
// (its files, or module@version for packages from the module cache) and
// the main module's go.mod and go.sum. A second build of unchanged sources
// costs one `go list`.
package gobuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/crashrig/crashrig/internal/atomicfile"
)

// Errors callers map to "the user's input": the toolchain is missing or
// unusable, or the package does not build into a program.
var (
	ErrToolchain = errors.New("no usable Go toolchain")
	ErrPackage   = errors.New("Go package does not build")
)

// layoutVersion changes whenever the build flags or the key change.
const layoutVersion = "crashrig-gobuild-1"

// A Builder builds Go packages for the guest.
type Builder struct {
	Go       string                        // go command: a path or a name on PATH ("" = "go")
	CacheDir string                        // where built programs are kept
	Logf     func(format string, a ...any) // progress (nil = silent)
}

// A Toolchain is a go command and what it says about itself.
type Toolchain struct {
	Go      string // absolute path of the go command
	Version string // e.g. "go1.26.8" or "devel go1.27-abcdef Tue Nov 25 …"
	GOROOT  string
	Flags   string // GOFLAGS and GOEXPERIMENT as the toolchain sees them
}

// A Binary is a built program.
type Binary struct {
	Path      string // in the cache
	Toolchain Toolchain
	Cached    bool // no build ran: the cache had it
}

// Env is the environment every go command of the package runs with.
func Env() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOAMD64=v1", "GOTOOLCHAIN=local")
}

// toolchains remembers each go command's answers for the life of the process:
// a comparison prepares several variants, and each would otherwise ask again.
var toolchains sync.Map // name as given -> Toolchain

// Toolchain finds the go command and asks it for its version.
func (b Builder) Toolchain(ctx context.Context) (Toolchain, error) {
	if tc, ok := toolchains.Load(b.Go); ok {
		return tc.(Toolchain), nil
	}
	tc, err := b.probe(ctx)
	if err == nil {
		toolchains.Store(b.Go, tc)
	}
	return tc, err
}

func (b Builder) probe(ctx context.Context) (Toolchain, error) {
	name := b.Go
	if name == "" {
		name = "go"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if b.Go == "" {
			return Toolchain{}, fmt.Errorf("%w: no go command on PATH: install Go or name one with --go PATH", ErrToolchain)
		}
		return Toolchain{}, fmt.Errorf("%w: --go %s: %v", ErrToolchain, b.Go, unwrapAll(err))
	}
	if p, err = filepath.Abs(p); err != nil {
		return Toolchain{}, err
	}
	out, err := exec.CommandContext(ctx, p, "version").Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) < 3 || f[0] != "go" || f[1] != "version" {
		return Toolchain{}, fmt.Errorf("%w: %s is no go command (`%[2]s version`: %s)", ErrToolchain, p,
			strings.TrimSpace(fmt.Sprint(err, " ", string(bytes.TrimSpace(out)))))
	}
	// All but the os/arch: a development toolchain says "devel go1.N-hash date".
	tc := Toolchain{Go: p, Version: strings.Join(f[2:max(3, len(f)-1)], " ")}
	cmd := exec.CommandContext(ctx, p, "env", "GOROOT", "GOFLAGS", "GOEXPERIMENT")
	cmd.Env = Env()
	if out, err = cmd.Output(); err != nil {
		return Toolchain{}, fmt.Errorf("%w: %s env: %v", ErrToolchain, p, err)
	}
	lines := strings.SplitN(string(out), "\n", 2)
	tc.GOROOT = strings.TrimSpace(lines[0])
	if len(lines) > 1 {
		tc.Flags = strings.TrimSpace(lines[1])
	}
	return tc, nil
}

// Minor returns N of a "go1.N…" version, or -1 when it cannot tell.
func (tc Toolchain) Minor() int {
	v, ok := strings.CutPrefix(tc.Version, "go1.")
	if !ok {
		return -1
	}
	n := 0
	for i := 0; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		n = n*10 + int(v[i]-'0')
	}
	return n
}

func unwrapAll(err error) error {
	for errors.Unwrap(err) != nil {
		err = errors.Unwrap(err)
	}
	return err
}

func (b Builder) logf(format string, a ...any) {
	if b.Logf != nil {
		b.Logf(format, a...)
	}
}

// Build returns the program built from pkg: an absolute directory, or an
// import path resolved from the current directory. It builds only when the
// cache has no program for these sources and this toolchain.
func (b Builder) Build(ctx context.Context, pkg string) (Binary, error) {
	tc, err := b.Toolchain(ctx)
	if err != nil {
		return Binary{}, err
	}
	dir, pattern, err := target(ctx, tc, pkg)
	if err != nil {
		return Binary{}, err
	}
	key, err := sourceKey(ctx, tc, dir, pattern, pkg)
	if err != nil {
		return Binary{}, err
	}
	name := path.Base(filepath.ToSlash(pkg))
	out := filepath.Join(b.CacheDir, name+"-"+key[:24])
	if _, err := os.Stat(out); err == nil {
		return Binary{Path: out, Toolchain: tc, Cached: true}, nil
	}
	b.logf("building %s with %s (cached for next time)", pkg, tc.Version)
	if err := os.MkdirAll(b.CacheDir, 0o700); err != nil {
		return Binary{}, fmt.Errorf("go build cache: %w", err)
	}
	err = atomicfile.Produce(out, 0o700, func(tmp string) error {
		if err := Compile(ctx, tc, dir, tmp, nil, pattern...); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrPackage, pkg, err)
		}
		return nil
	})
	if errors.Is(err, ErrPackage) {
		return Binary{}, err
	} else if err != nil {
		return Binary{}, fmt.Errorf("go build cache: %w", err)
	}
	return Binary{Path: out, Toolchain: tc}, nil
}

// Compile builds the packages named by pattern, in dir, into the program out
// with the toolchain tc and the package's flags: static, linux/amd64 at the
// baseline ISA, -trimpath, stripped, no build id (the same sources and
// toolchain give the same bytes). env adds to Env.
func Compile(ctx context.Context, tc Toolchain, dir, out string, env []string, pattern ...string) error {
	args := append([]string{"build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out}, pattern...)
	cmd := exec.CommandContext(ctx, tc.Go, args...)
	cmd.Dir, cmd.Env = dir, append(Env(), env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s build: %v\n%s", tc.Version, err, bytes.TrimSpace(msg))
	}
	return nil
}

// target says where to run go and what to name: the directory and "." in
// a module, the directory's files outside any module (like `go run
// main.go`), or the import path from the current directory.
func target(ctx context.Context, tc Toolchain, pkg string) (dir string, pattern []string, err error) {
	if !filepath.IsAbs(pkg) {
		return "", []string{pkg}, nil
	}
	cmd := exec.CommandContext(ctx, tc.Go, "env", "GOMOD")
	cmd.Dir, cmd.Env = pkg, Env()
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s env GOMOD in %s: %v", ErrToolchain, tc.Go, pkg, err)
	}
	if m := strings.TrimSpace(string(out)); m != "" && m != os.DevNull {
		return pkg, []string{"."}, nil
	}
	ents, err := os.ReadDir(pkg)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrPackage, err)
	}
	for _, e := range ents {
		if n := e.Name(); !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			pattern = append(pattern, n)
		}
	}
	if len(pattern) == 0 {
		return "", nil, fmt.Errorf("%w: %s has no .go files", ErrPackage, pkg)
	}
	return pkg, pattern, nil
}

// listed is what sourceKey reads of `go list -json`.
type listed struct {
	ImportPath, Name, Dir string
	Standard              bool
	GoFiles, CgoFiles     []string
	SFiles, HFiles        []string
	CFiles, SysoFiles     []string
	EmbedFiles            []string
	Module                *module
	Error                 *struct{ Err string }
	DepsErrors            []*struct{ Err string }
}

type module struct {
	Path, Version, GoMod string
	Main                 bool
	Replace              *module
}

// sourceKey hashes everything the program is built from.
func sourceKey(ctx context.Context, tc Toolchain, dir string, pattern []string, pkg string) (string, error) {
	cmd := exec.CommandContext(ctx, tc.Go, append([]string{"list", "-deps", "-json"}, pattern...)...)
	cmd.Dir, cmd.Env = dir, Env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s: %s", ErrPackage, pkg, orErr(stderr.String(), err))
	}
	var pkgs []listed
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("reading go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return "", fmt.Errorf("%w: %s: go list found no package", ErrPackage, pkg)
	}
	top := pkgs[len(pkgs)-1]
	if top.Error != nil || len(top.DepsErrors) > 0 {
		msg := ""
		if top.Error != nil {
			msg = top.Error.Err
		} else {
			msg = top.DepsErrors[0].Err
		}
		return "", fmt.Errorf("%w: %s: %s", ErrPackage, pkg, msg)
	}
	if top.Name != "main" {
		return "", fmt.Errorf("%w: %s is package %s, not a main package (a program)", ErrPackage, pkg, top.Name)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", layoutVersion, tc.Version, tc.GOROOT, tc.Flags)
	mods := map[string]bool{}
	for _, p := range pkgs {
		if p.Standard {
			continue
		}
		fmt.Fprintf(h, "pkg %s\x00", p.ImportPath)
		if m := p.Module; m != nil && !m.Main && (m.Replace == nil && m.Version != "" || m.Replace != nil && m.Replace.Version != "") {
			// From the module cache: module@version names the content.
			if m.Replace != nil {
				m = m.Replace
			}
			fmt.Fprintf(h, "mod %s@%s\x00", m.Path, m.Version)
			continue
		}
		if m := p.Module; m != nil && m.GoMod != "" && !mods[m.GoMod] {
			mods[m.GoMod] = true
			for _, f := range []string{m.GoMod, filepath.Join(filepath.Dir(m.GoMod), "go.sum")} {
				if err := hashFile(h, filepath.Base(f), f); err != nil && !errors.Is(err, os.ErrNotExist) {
					return "", err
				}
			}
		}
		files := concat(p.GoFiles, p.CgoFiles, p.SFiles, p.HFiles, p.CFiles, p.SysoFiles, p.EmbedFiles)
		sort.Strings(files)
		for _, f := range files {
			if err := hashFile(h, f, filepath.Join(p.Dir, f)); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile adds a file's label and content to h.
func hashFile(h io.Writer, label, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(h, "file %s\x00", label)
	_, err = io.Copy(h, f)
	h.Write([]byte{0})
	return err
}

func concat(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

func orErr(msg string, err error) string {
	if s := strings.TrimSpace(msg); s != "" {
		return s
	}
	return err.Error()
}
