package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/crashrig/crashrig/internal/image"
	"github.com/crashrig/crashrig/internal/run"
	"github.com/crashrig/crashrig/internal/shell"
	"github.com/crashrig/crashrig/reproducer/marker"
)

// runOnlyFlags mean nothing to an interactive session.
var runOnlyFlags = []string{"duration", "iterations", "grace", "hang-timeout", "boot-timeout", "log-dir", "db",
	"label", "json", "init-script", "verbose", "snapshot"}

func newShellCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   "shell -k KERNEL [--base busybox|u-root] [-r REPRO] [flags] [-- REPRO-ARGS...]",
		Short: "boot the same image with a shell on the console, to poke at the guest by hand",
		Long: `Boot KERNEL with the image crashrig run would build, but instead of running the
reproducer, give the serial console to a shell in the guest: your terminal goes raw and
every key, Ctrl-C included, goes to the guest. The reproducer is in the image (a
built-in under /bin, yours under /repro); 'repro' runs it with its arguments.

Leave with Ctrl-] (the VM is stopped), or exit the shell (the guest powers off).
The guest learns your window size at boot; after resizing, run
'stty rows R cols C' (or busybox's 'resize') in the guest.

The image needs a shell: --base busybox (the default here) or --base u-root.`,
		Example: `  crashrig shell -k bzImage
  crashrig shell -k bzImage --base u-root -r ./cmd/myrepro -- -n 8
  crashrig shell -k bzImage -r ./repro.sh --add ./data:/data --env GOMAXPROCS=1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.opts.Image.InitScript != "" {
				return usageErr("crashrig shell runs crashrig's own init: drop --init-script")
			}
			o, err := f.options(args, stderr)
			if err != nil {
				return err
			}
			return shellCmd(cmd.Context(), o, stdin, stdout, stderr)
		},
	}
	f.register(c)
	f.opts.Image.Base = image.BaseBusybox
	c.Flags().Lookup("base").DefValue = image.BaseBusybox
	for _, name := range runOnlyFlags {
		c.Flags().MarkHidden(name)
	}
	return c
}

// shellCmd prepares the image like crashrig run and hands the console to
// the user.
func shellCmd(ctx context.Context, o run.Options, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.Kernel == "" {
		return usageErr("no kernel: give -k PATH (scripts/fetch-test-kernel prints one)")
	}
	in, ok := stdin.(*os.File)
	if !ok {
		return usageErr("crashrig shell needs a terminal (or a file) on stdin")
	}
	if o.Initramfs == "" && !o.Image.HasShell() {
		return usageErr("--base minimal has no shell: use --base busybox or --base u-root")
	}
	cols, rows := 80, 24
	if term.IsTerminal(int(in.Fd())) {
		if w, h, err := term.GetSize(int(in.Fd())); err == nil && w > 0 && h > 0 {
			cols, rows = w, h
		}
	}
	o.Snapshot = false // a shell session boots
	o.Append = strings.TrimSpace(o.Append + " " + marker.TTYWord(cols, rows))
	o.Duration = 0
	if t := os.Getenv("TERM"); t != "" {
		o.Env = append([]string{"TERM=" + t}, o.Env...)
	}
	plan, err := run.Prepare(ctx, o)
	if err != nil {
		return prepareErr(err)
	}
	o.Logf("booting %s (%s, %s base); leave with Ctrl-], or exit the shell to power off", plan.Kernel.Release,
		plan.Qemu.Defaults().Accel, o.Image.Base)
	// The guest prints this line just before it starts the shell on its console.
	ex, err := shell.Run(ctx, shell.Options{Argv: plan.Qemu.Argv(), In: in, Out: stdout, Ready: []byte("crashrig shell: ")})
	if err != nil {
		return &exitError{code: exitInfra, err: err}
	}
	switch {
	case ex.Left:
		fmt.Fprintf(stderr, "\r\ncrashrig: left the guest (Ctrl-]); qemu stopped\n")
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "\r\ncrashrig: interrupted; qemu stopped\n")
		return &exitError{code: 130}
	case ex.Code != 0:
		return &exitError{code: exitInfra, err: fmt.Errorf("qemu exited with status %d: %s", ex.Code, strings.TrimSpace(ex.Stderr))}
	default:
		fmt.Fprintf(stderr, "\r\ncrashrig: the guest powered off\n")
	}
	return nil
}
