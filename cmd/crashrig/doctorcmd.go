package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/doctor"
	"github.com/crashrig/crashrig/internal/report"
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
			checks := doctor.Run(cmd.Context(), doctor.Options{Qemu: qbin, Kernel: kpath,
				KVMMemory: filepath.Join(xdg.CacheDir(), "kvm-probe.json")})
			if failed := report.Checks(stdout, checks); failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d problem(s) found", failed)}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&kpath, "kernel", "k", "", "kernel image to check")
	c.Flags().StringVar(&qbin, "qemu", qemu.DefaultBinary, "qemu binary")
	return c
}
