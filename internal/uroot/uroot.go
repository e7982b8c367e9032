// Package uroot builds the u-root base of a guest image: u-root's Go
// userland (the gosh shell and a set of core commands) compiled into one
// busybox-style binary, /bbin/bb, by github.com/u-root/mkuimage, with a
// link per command in /bbin and /bin and /bin/sh pointing to gosh.
//
// The base carries no init: crashrig's guest binary stays /init on every
// base. (u-root's own init runs its uinit, then a shell, then exits, and
// PID 1 exiting panics the kernel, which would look like a guest crash.)
//
// Building needs a Go toolchain at run time (1.24 or later, as u-root
// v0.16.0 asks) and u-root's module and its dependencies, from the module
// cache or the module proxy. The module context is embedded here: a go.mod
// and go.sum requiring u-root v0.16.0, and a tools.go importing the
// commands. A built base is cached by the toolchain's version and that
// module context, so the build runs once per Go version.
package uroot

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/u-root/pkg/cpio"
	"github.com/u-root/uio/llog"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/gobuild"
)

// Module is the u-root module the commands come from.
const Module = "github.com/u-root/u-root"

// Commands are the u-root commands (under cmds/core) the base carries.
var Commands = []string{"gosh", "cat", "chmod", "cp", "date", "df", "dmesg", "echo", "false", "find", "free",
	"grep", "head", "hexdump", "kill", "ln", "ls", "mkdir", "more", "mount", "mv", "poweroff", "printenv",
	"ps", "pwd", "rm", "seq", "shutdown", "sleep", "strace", "stty", "sync", "tail", "tee", "timeout",
	"touch", "true", "tty", "umount", "uname", "uptime", "wc", "which"}

var (
	//go:embed module/go.mod.txt
	goMod []byte
	//go:embed module/go.sum.txt
	goSum []byte
)

// layoutVersion changes whenever Files would give other files for the
// same inputs.
const layoutVersion = "crashrig-uroot-1"

// ToolsGo is the tools.go of the embedded module: it imports every command
// so that the module requires what they need.
func ToolsGo() []byte {
	var b bytes.Buffer
	b.WriteString("//go:build tools\n\n// Package tools pins the u-root commands of crashrig's u-root base.\npackage tools\n\nimport (\n")
	for _, c := range Commands {
		fmt.Fprintf(&b, "\t_ %q\n", Module+"/cmds/core/"+c)
	}
	b.WriteString(")\n")
	return b.Bytes()
}

// WriteModule writes the embedded module context to dir.
func WriteModule(dir string) error {
	for name, data := range map[string][]byte{"go.mod": goMod, "go.sum": goSum, "tools.go": ToolsGo()} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// A Builder builds (or finds in its cache) the u-root base.
type Builder struct {
	Go       string                        // go command ("" = go on PATH)
	CacheDir string                        // where built bases are kept
	Logf     func(format string, a ...any) // progress (nil = silent)
}

func (b Builder) logf(format string, a ...any) {
	if b.Logf != nil {
		b.Logf(format, a...)
	}
}

// Files returns the base's files, building it first when the cache has
// none for this toolchain. Errors about the toolchain wrap
// gobuild.ErrToolchain.
func (b Builder) Files(ctx context.Context) ([]initramfs.File, error) {
	tc, err := gobuild.Builder{Go: b.Go}.Toolchain(ctx)
	if err != nil {
		return nil, fmt.Errorf("the u-root base is built from source and needs Go 1.24 or later: %w", err)
	}
	if m := tc.Minor(); m >= 0 && m < 24 {
		return nil, fmt.Errorf("%w: the u-root base needs Go 1.24 or later (u-root v0.16.0), and %s is %s", gobuild.ErrToolchain, tc.Go, tc.Version)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", layoutVersion, tc.Version, tc.GOROOT, tc.Flags)
	h.Write(goMod)
	h.Write(goSum)
	h.Write(ToolsGo())
	archive := filepath.Join(b.CacheDir, "uroot-"+hex.EncodeToString(h.Sum(nil))[:24]+".cpio")
	if _, err := os.Stat(archive); err != nil {
		b.logf("building the u-root base with %s (once per Go version; needs u-root's modules in the module cache or from the proxy)", tc.Version)
		if err := b.build(ctx, tc, archive); err != nil {
			return nil, err
		}
	}
	return readBase(archive)
}

// envMu serialises builds: mkuimage hands the process environment to go,
// so build sets GOAMD64 and GOTOOLCHAIN in it for the time of a build.
var envMu sync.Mutex

// build runs mkuimage in a scratch copy of the embedded module and leaves
// the archive at out.
func (b Builder) build(ctx context.Context, tc gobuild.Toolchain, out string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "crashrig-uroot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	mod, tmp := filepath.Join(dir, "mod"), filepath.Join(dir, "tmp")
	for _, d := range []string{mod, tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := WriteModule(mod); err != nil {
		return err
	}
	if err := os.MkdirAll(b.CacheDir, 0o700); err != nil {
		return fmt.Errorf("u-root cache: %w", err)
	}
	return atomicfile.Produce(out, 0o600, func(part string) error {
		var pkgs []string
		for _, c := range Commands {
			pkgs = append(pkgs, Module+"/cmds/core/"+c)
		}
		env := golang.Default(golang.DisableCGO(), golang.WithGOOS("linux"), golang.WithGOARCH("amd64"),
			golang.WithGOROOT(tc.GOROOT), golang.WithWorkingDir(mod))
		var msgs bytes.Buffer
		logger := llog.New(slog.LevelWarn, func(format string, a ...any) { fmt.Fprintf(&msgs, format+"\n", a...) })

		envMu.Lock()
		restore := setenv(map[string]string{"GOAMD64": "v1", "GOTOOLCHAIN": "local", "GOWORK": "off"})
		err = uimage.Create(logger, uimage.WithReplaceEnv(env), uimage.WithBusyboxCommands(pkgs...),
			uimage.WithShell("gosh"), uimage.WithSkipLDD(), uimage.WithTempDir(tmp), uimage.WithCPIOOutput(part))
		restore()
		envMu.Unlock()
		if err != nil {
			return fmt.Errorf("%w: building the u-root base with %s: %v\n%s", gobuild.ErrToolchain, tc.Version, err, strings.TrimSpace(msgs.String()))
		}
		return nil
	})
}

// setenv sets variables and returns a function that puts back the old
// values.
func setenv(vars map[string]string) (restore func()) {
	old := map[string]*string{}
	for k, v := range vars {
		if o, ok := os.LookupEnv(k); ok {
			old[k] = &o
		} else {
			old[k] = nil
		}
		os.Setenv(k, v)
	}
	return func() {
		for k, o := range old {
			if o == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *o)
			}
		}
	}
}

// readBase turns a built archive into image files: regular files and
// symlinks (directories come from their contents; u-root's device nodes
// and /init are left out, crashrig provides its own), plus a /bin link for
// every command so that PATH=/bin finds them.
func readBase(archive string) ([]initramfs.File, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		return nil, fmt.Errorf("reading the u-root base %s: %w", archive, err)
	}
	var files []initramfs.File
	have := map[string]bool{}
	var cmds []string
	for _, r := range recs {
		name := "/" + strings.TrimPrefix(path.Clean(r.Name), "/")
		if name == "/init" || strings.HasPrefix(name, "/dev/") {
			continue
		}
		data, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		if err != nil {
			return nil, fmt.Errorf("reading the u-root base %s: %s: %w", archive, r.Name, err)
		}
		switch r.Mode & cpio.S_IFMT {
		case cpio.S_IFREG:
			files = append(files, initramfs.File{Path: name, Data: data, Mode: os.FileMode(r.Mode & 0o777)})
		case cpio.S_IFLNK:
			files = append(files, initramfs.File{Path: name, Link: string(data)})
			if path.Dir(name) == "/bbin" {
				cmds = append(cmds, path.Base(name))
			}
		default:
			continue
		}
		have[name] = true
	}
	if !have["/bbin/bb"] || !have["/bin/sh"] {
		return nil, errors.New("the u-root base lacks /bbin/bb or /bin/sh: the build went wrong; remove " + archive)
	}
	for _, c := range cmds {
		if !have["/bin/"+c] {
			files = append(files, initramfs.File{Path: "/bin/" + c, Link: "/bbin/bb"})
		}
	}
	return files, nil
}
