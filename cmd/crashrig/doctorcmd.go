package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/kernel"
	"github.com/crashrig/crashrig/internal/xdg"
	"github.com/crashrig/crashrig/qemu"
)

func newDoctorCmd(stdout, stderr io.Writer) *cobra.Command {
	var kpath, qbin string
	c := &cobra.Command{
		Use:   "doctor [-k KERNEL]",
		Short: "check qemu, KVM and a kernel image before trusting verdicts",
		Long: `Check that qemu is there, whether KVM really runs a guest (a probe boot with
-k, not just /dev/kvm), that KERNEL is a bzImage, and — when its config can be
found beside it, in /boot or embedded (IKCONFIG) — that it has what a crashrig
guest needs, each with the fix. Exit status 0 when nothing essential is
missing, 1 otherwise, 2 for usage errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d := &doctor{w: stdout}
			d.qemu(qbin)
			if kpath == "" {
				d.kvm(cmd, qbin, "")
				d.say("info", "kernel", "no -k given: kernel not checked")
			} else if img, ok := d.kernel(kpath); ok {
				d.kvm(cmd, qbin, img.Path)
				d.config(img)
			}
			if d.failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d problem(s) found", d.failed)}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&kpath, "kernel", "k", "", "kernel image to check")
	c.Flags().StringVar(&qbin, "qemu", qemu.DefaultBinary, "qemu binary")
	return c
}

type doctor struct {
	w      io.Writer
	failed int
}

func (d *doctor) say(status, what, msg string) {
	if status == "FAIL" {
		d.failed++
	}
	fmt.Fprintf(d.w, "%-4s  %-28s %s\n", status, what, msg)
}

func (d *doctor) qemu(bin string) {
	path, err := exec.LookPath(bin)
	if err != nil {
		d.say("FAIL", "qemu", bin+" not found: apt-get install qemu-system-x86")
		return
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		d.say("FAIL", "qemu", fmt.Sprintf("%s --version: %v", path, err))
		return
	}
	v, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	d.say("ok", "qemu", path+": "+v)
}

func (d *doctor) kvm(cmd *cobra.Command, bin, kernelPath string) {
	if kernelPath == "" {
		d.say("info", "kvm", "give -k to probe whether KVM really runs a guest")
		return
	}
	// A fresh probe: doctor is where users go when the remembered answer
	// is in doubt.
	v := qemu.KVMProbe{Binary: bin, Kernel: kernelPath,
		CacheFile: filepath.Join(xdg.CacheDir(), "kvm-probe.json"), TTL: 1}.Run(cmd.Context())
	if v.Usable {
		d.say("ok", "kvm", v.Why)
		return
	}
	d.say("warn", "kvm", "unusable, runs fall back to TCG (slower, still multi-threaded): "+v.Why)
}

func (d *doctor) kernel(path string) (kernel.Image, bool) {
	img, err := kernel.Inspect(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.say("FAIL", "kernel", path+": no such file")
		return img, false
	case err != nil:
		d.say("FAIL", "kernel", err.Error())
		return img, false
	}
	d.say("ok", "kernel", fmt.Sprintf("bzImage, boot protocol %s, %s", img.Protocol, img.Version))
	return img, true
}

func (d *doctor) config(img kernel.Image) {
	cfg := kernel.FindConfig(img)
	if cfg == nil {
		d.say("warn", "config", "no config found beside the image, in /boot or embedded (IKCONFIG); options not checked")
		return
	}
	d.say("ok", "config", cfg.Source)
	for _, f := range kernel.Verify(cfg) {
		switch {
		case f.OK:
			d.say("ok", f.Name(), "")
		case f.Warn:
			d.say("warn", f.Name(), f.Why+"; set "+f.Fix)
		default:
			d.say("FAIL", f.Name(), f.Why+"; set "+f.Fix)
		}
	}
}
