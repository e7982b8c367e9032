package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/initramfs"
	"github.com/crashrig/crashrig/internal/guestbin"
	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/repro"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/xdg"
	"github.com/crashrig/crashrig/reproducer/marker"
)

func newInitramfsCmd(stdout, stderr io.Writer) *cobra.Command {
	var out, reproArg, codec string
	var adds []string
	var im image.Options
	c := &cobra.Command{
		Use:   "initramfs -o FILE [-r REPRO] [--base B] [--add HOST:GUEST] [--init-script seed] [-- REPRO-ARGS...]",
		Short: "write the initramfs crashrig would boot, for use by hand or with --initramfs",
		Example: `  crashrig initramfs -o repro.cpio.gz -r ./mybin
  crashrig initramfs -o seed.cpio.gz --base busybox --init-script seed   # the seed story's init.sh
  cpio -itv < <(zcat repro.cpio.gz)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErr("no output file: give -o FILE")
			}
			if err := checkOutput("-o", out); err != nil {
				return err
			}
			r, err := repro.Resolve(reproArg, args)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if im.Add, err = image.ParseAdds(adds); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			r = r.WithGo(im.Go)
			im.Repro, im.Compression = r, codec
			if err := im.Validate(); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			logf := func(f string, a ...any) { fmt.Fprintf(stderr, "crashrig: "+f+"\n", a...) }
			guest, err := guestbin.Builder{CacheDir: filepath.Join(xdg.CacheDir(), "guest"), Logf: logf}.Path(cmd.Context())
			if err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			im.Guest, im.Logf = guest, logf
			spec, err := image.Spec(cmd.Context(), im)
			if err != nil {
				return prepareErr(err)
			}
			if _, err := spec.Hash(); err != nil {
				return usageErr("%v", err)
			}
			if err := initramfs.WriteFile(out, spec); err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			fmt.Fprintf(stdout, "%s\n", out)
			if im.InitScript == image.InitSeed {
				fmt.Fprintf(stderr, "crashrig: boot it with: -initrd %s -append console=ttyS0\n", out)
			} else {
				orders := marker.Orders{Run: r.GuestPath(), Args: r.Args, Duration: 30 * time.Second}.Words()
				fmt.Fprintf(stderr, "crashrig: boot it with: -initrd %s -append '%s %s'\n", out, run.DefaultCmdline, strings.Join(orders, " "))
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVarP(&out, "output", "o", "", "file to write")
	fl.StringVarP(&reproArg, "repro", "r", "go20427", "reproducer: a built-in name, a static x86-64 program, a Go main package or a shell script")
	fl.StringVar(&codec, "compression", "gzip", "gzip or none")
	fl.StringVar(&im.Base, "base", image.BaseMinimal, "minimal, busybox or u-root")
	fl.StringVar(&im.Go, "go", "", "go command that builds a Go package reproducer and the u-root base; with a built-in, that built-in as its own program")
	fl.StringArrayVar(&adds, "add", nil, "HOST:GUEST file or directory to copy into the image (repeatable)")
	fl.StringVar(&im.InitScript, "init-script", "", "seed: /init is the seed story's init.sh (needs --base busybox)")
	return c
}
