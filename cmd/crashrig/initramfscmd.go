package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/internal/guestbin"
	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/xdg"
)

func newInitramfsCmd(stdout, stderr io.Writer) *cobra.Command {
	var out, repro, codec string
	c := &cobra.Command{
		Use:   "initramfs -o FILE [-r REPRO] [-- REPRO-ARGS...]",
		Short: "write the initramfs crashrig would boot, for use by hand or with --initramfs",
		Example: `  crashrig initramfs -o repro.cpio.gz -r ./mybin
  cpio -itv < <(zcat repro.cpio.gz)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErr("no output file: give -o FILE")
			}
			r, err := image.ResolveRepro(repro, args)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			guest, err := guestbin.Builder{CacheDir: filepath.Join(xdg.CacheDir(), "guest"),
				Logf: func(f string, a ...any) { fmt.Fprintf(stderr, "crashrig: "+f+"\n", a...) }}.Path(cmd.Context())
			if err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			spec, err := image.Spec(image.Options{Guest: guest, Repro: r, Compression: codec})
			if err != nil {
				return usageErr("%v", err)
			}
			if _, err := spec.Hash(); err != nil {
				return usageErr("%v", err)
			}
			if err := initramfs.WriteFile(out, spec); err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			fmt.Fprintf(stdout, "%s\n", out)
			fmt.Fprintf(stderr, "crashrig: boot it with: -initrd %s -append 'console=ttyS0 panic=-1 crashrig.run=%s crashrig.d=30'\n", out, r.GuestPath())
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "file to write")
	c.Flags().StringVarP(&repro, "repro", "r", "go20427", "reproducer: a built-in name or a static x86-64 program")
	c.Flags().StringVar(&codec, "compression", "gzip", "gzip or none")
	return c
}
