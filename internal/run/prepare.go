package run

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/internal/guestbin"
	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/kernel"
	"github.com/crashrig/crashrig/internal/xdg"
	"github.com/crashrig/crashrig/qemu"
	"github.com/crashrig/crashrig/reproducer/marker"
)

// DefaultCmdline is the kernel command line crashrig boots with, before
// the user's --append and the guest's orders. The log level stays at 7:
// lower levels hide WARNINGs (quiet) or every oops (loglevel=0).
// no_timer_check: under TCG on a loaded host the IO-APIC timer check
// fails now and then ("IO-APIC + timer doesn't work!") and panics a boot
// that would have worked.
const DefaultCmdline = "console=ttyS0 panic=-1 loglevel=7 printk.time=1 cryptomgr.notests no_timer_check"

// A Plan is a run prepared once and bootable many times: inputs checked,
// image built, accelerator chosen.
type Plan struct {
	Opts        Options
	Kernel      kernel.Image
	Initramfs   string
	InitramfsID string
	ReproHash   string // identifies the reproducer's code: the image hash, which covers it and the guest
	Qemu        qemu.Config
	AccelNote   string
	QemuVersion string
	kvmBroken   string
	snap        *snapshotter // nil = every run boots
}

func (o Options) withDefaults() Options {
	d := Defaults()
	for _, f := range []struct{ v, def *int }{{&o.Iterations, &d.Iterations}, {&o.SMP, &d.SMP}, {&o.Memory, &d.Memory}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	for _, f := range []struct{ v, def *time.Duration }{{&o.Grace, &d.Grace}, {&o.HangTimeout, &d.HangTimeout}, {&o.BootTimeout, &d.BootTimeout}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	if o.Accel == "" {
		o.Accel = d.Accel
	}
	if o.TCGThread == "" {
		o.TCGThread = d.TCGThread
	}
	if o.Image.InitScript == image.InitSeed {
		// The seed init prints no heartbeat and cannot stop the reproducer:
		// crashrig stops the guest -d after "Starting test now..." (a pass;
		// package verdict), or waits for it with -d 0.
		o.HangTimeout = o.Duration
		if o.Duration == 0 {
			o.HangTimeout = 100 * 365 * 24 * time.Hour
		}
	}
	if o.CacheDir == "" {
		o.CacheDir = xdg.CacheDir()
	}
	if o.LogDir == "" {
		o.LogDir = filepath.Join(xdg.StateDir(), "logs")
	}
	if o.QemuBinary == "" {
		o.QemuBinary = qemu.DefaultBinary
	}
	return o
}

func (o Options) logf(format string, a ...any) {
	if o.Logf != nil {
		o.Logf(format, a...)
	}
}

// Prepare checks the inputs and builds what every boot of the run needs.
// It writes nothing but caches: a bad input leaves no output behind.
func Prepare(ctx context.Context, o Options) (*Plan, error) {
	o = o.withDefaults()
	p := &Plan{Opts: o}
	if err := p.checkKernel(); err != nil {
		return nil, err
	}
	if o.Accel != "auto" && o.Accel != "kvm" && o.Accel != "tcg" {
		return nil, fmt.Errorf("%w: --accel %q: want auto, kvm or tcg", ErrInput, o.Accel)
	}
	cmdline, err := o.kernelCmdline()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(o.QemuBinary); err != nil {
		return nil, fmt.Errorf("%s not found in PATH (Debian: apt-get install qemu-system-x86)", o.QemuBinary)
	}
	if o.Modules != "" {
		mods, err := image.Modules(o.Modules, p.Kernel.Release, image.PVPanicModules)
		if err != nil {
			return nil, err
		}
		p.Opts.Image.Add = append(append([]image.Add{}, p.Opts.Image.Add...), mods...)
	}
	if err := p.buildImage(ctx); err != nil {
		return nil, err
	}
	bios, err := o.firmware()
	if err != nil {
		return nil, err
	}
	p.Qemu = qemu.Config{Binary: o.QemuBinary, Kernel: p.Kernel.Path, Initrd: p.Initramfs, Append: cmdline,
		SMP: o.SMP, Memory: o.Memory, TCGThread: o.TCGThread, BIOS: bios, Extra: o.QemuArgs, PVPanic: !o.NoPVPanic}
	p.chooseAccel(ctx)
	if err := p.Qemu.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	vctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a wedged binary must not hang the run
	defer cancel()
	if v, err := exec.CommandContext(vctx, o.QemuBinary, "--version").Output(); err == nil {
		p.QemuVersion, _, _ = strings.Cut(strings.TrimSpace(string(v)), "\n")
	}
	if o.Snapshot {
		var why string
		if p.snap, why = newSnapshotter(p); p.snap == nil {
			o.logf("--snapshot: %s; every run boots", why)
		}
	}
	return p, nil
}

// QbootPath is where Debian's qemu-system-data installs qboot, a minimal
// firmware that starts a -kernel boot about 0.1–0.2 s sooner than SeaBIOS
// under TCG (docs/performance.md).
const QbootPath = "/usr/share/qemu/qboot.rom"

// firmware resolves --bios: qboot when it is installed and the user did
// not choose, qemu's default with "default", or the user's file.
func (o Options) firmware() (string, error) {
	switch o.BIOS {
	case "":
		for _, a := range o.QemuArgs {
			if a == "-bios" {
				return "", nil // the user passes one through --qemu-arg
			}
		}
		if _, err := os.Stat(QbootPath); err == nil {
			return QbootPath, nil
		}
		return "", nil
	case "default":
		return "", nil
	}
	if _, err := os.Stat(o.BIOS); err != nil {
		return "", fmt.Errorf("%w: --bios %v", ErrInput, err)
	}
	return o.BIOS, nil
}

func (p *Plan) checkKernel() error {
	k := p.Opts.Kernel
	if k == "" {
		return fmt.Errorf("%w: no kernel image (-k PATH; scripts/fetch-test-kernel fetches Debian's cloud kernel)", ErrInput)
	}
	img, err := kernel.Inspect(k)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: kernel %s: no such file", ErrInput, k)
	case err != nil:
		return fmt.Errorf("%w: kernel %v", ErrInput, err)
	}
	if abs, err := filepath.Abs(img.Path); err == nil {
		img.Path = abs
	}
	p.Kernel = img
	return nil
}

// baseCmdline is the default line (or the user's replacement) and the
// user's additions, without the guest's orders.
func (o Options) baseCmdline() string {
	words := []string{DefaultCmdline}
	if o.Cmdline != "" {
		words = []string{o.Cmdline}
	}
	if o.Append != "" {
		words = append(words, o.Append)
	}
	return strings.Join(words, " ")
}

// orders are what the guest is told to run, on the kernel command line of a
// boot or on the console of a restored run.
func (o Options) orders() marker.Orders {
	return marker.Orders{Run: o.Repro.GuestPath(), Args: o.Repro.Args, Env: o.Env, Duration: o.Duration,
		Iterations: o.Iterations}
}

// kernelCmdline is the default line (or the user's replacement), the
// user's additions, then the guest's orders.
func (o Options) kernelCmdline() (string, error) {
	all := o.baseCmdline()
	for _, w := range strings.Fields(all) {
		if w == "quiet" || strings.HasPrefix(w, "loglevel=") && w < "loglevel=5" && len(w) == len("loglevel=5") {
			o.logf("warning: %q hides kernel WARNINGs or oopses from the console; crashes may go unseen", w)
		}
	}
	line := all + " " + strings.Join(o.orders().Words(), " ")
	// x86's COMMAND_LINE_SIZE.
	if len(line) > 2047 {
		return "", fmt.Errorf("%w: kernel command line is %d bytes, x86 allows 2047: shorten --append, the reproducer arguments or --env", ErrInput, len(line))
	}
	return line, nil
}

func (p *Plan) buildImage(ctx context.Context) error {
	o := p.Opts
	if o.Initramfs != "" {
		if _, err := os.Stat(o.Initramfs); err != nil {
			return fmt.Errorf("%w: initramfs %v", ErrInput, err)
		}
		p.Initramfs = o.Initramfs
		return nil
	}
	guest, err := guestbin.Builder{CacheDir: filepath.Join(o.CacheDir, "guest"), Logf: o.Logf}.Path(ctx)
	if err != nil {
		return err
	}
	io := o.Image
	io.Guest, io.Repro = guest, o.Repro
	if io.CacheDir == "" {
		io.CacheDir = o.CacheDir
	}
	if io.Logf == nil {
		io.Logf = o.Logf
	}
	spec, err := image.Spec(ctx, io)
	if err != nil {
		return err
	}
	path, hash, err := initramfs.Cache{Dir: filepath.Join(o.CacheDir, "initramfs")}.Build(spec)
	if err != nil {
		return err
	}
	p.Initramfs, p.InitramfsID, p.ReproHash = path, hash, hash
	return nil
}

// chooseAccel settles --accel auto: KVM when a probe boot shows it really
// runs guests here, TCG (multi-threaded) otherwise, saying why.
func (p *Plan) chooseAccel(ctx context.Context) {
	o := p.Opts
	switch o.Accel {
	case "tcg":
		p.Qemu.Accel = "tcg"
		return
	case "kvm":
		p.Qemu.Accel = "kvm"
		return
	}
	probe := qemu.KVMProbe{Binary: o.QemuBinary, Kernel: p.Kernel.Path,
		CacheFile: filepath.Join(o.CacheDir, "kvm-probe.json")}
	v := probe.Run(ctx)
	if v.Usable {
		p.Qemu.Accel = "kvm"
		p.AccelNote = "kvm: " + v.Why
		return
	}
	p.Qemu.Accel = "tcg"
	p.kvmBroken = v.Why
	when := "probed now"
	if v.Cached {
		when = "probed " + time.Since(v.At).Round(time.Second).String() + " ago"
	}
	p.AccelNote = fmt.Sprintf("KVM unusable (%s; %s), using TCG", v.Why, when)
	if !v.Cached {
		// Once per probe: the record keeps the note, and a comparison prepares every
		// variant with the same answer.
		o.logf("%s", p.AccelNote)
	}
}
