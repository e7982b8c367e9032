package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/gonofix"
	"github.com/crashrig/crashrig/internal/xdg"
)

func newGoNofixCmd(stdout io.Writer) *cobra.Command {
	var goCmd string
	c := &cobra.Command{
		Use:   "gonofix [--go GO]",
		Short: "make a Go toolchain without the fix for Go issue 20427 and print its go command",
		Long: `Copy the GOROOT of a go command into crashrig's cache with two instructions
changed, so that the runtime calls the vDSO's clock_gettime on the goroutine's
own small stack instead of the system stack (runtime·nanotime1 and time·now,
as Go 1.9 did), and print the copy's go command. Give it to run or compare
with --go: a built-in reproducer then runs as its own program on that runtime,
a positive control for vDSO stack probes (docs/positive-control.md).

The copy is made once per Go version and runtime source (about 270 MB) and
reused. Go versions whose runtime does not hold the expected instructions
(the patch is written for Go 1.26) are refused.`,
		Example: `  crashrig run -k bzImage -r vdsoneighbour --go "$(crashrig gonofix)" -d 10s`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := gonofix.Toolchain(cmd.Context(), goCmd, filepath.Join(xdg.CacheDir(), "go-nofix"))
			if errors.Is(err, gonofix.ErrUnexpected) {
				return &exitError{code: exitUsage, err: err}
			} else if err != nil {
				return &exitError{code: exitInfra, err: err}
			}
			fmt.Fprintln(stdout, p)
			return nil
		},
	}
	c.Flags().StringVar(&goCmd, "go", "", "go command whose toolchain to copy (default go from PATH)")
	return c
}
