package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	if code, ok := ccShim(os.Stderr); ok {
		os.Exit(code)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A night of runs must not grow with the console: ask the collector to keep
		// crashrig's own heap small (the VMs' memory is qemu's, not ours).
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "crashrig: interrupted: stopping the runs in flight (again to kill at once)")
		cancel()
		<-sigs
		os.Exit(130)
	}()
	os.Exit(crashrig(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// memoryLimit is the soft limit on crashrig's Go heap (GOMEMLIMIT overrides it).
const memoryLimit = 40 << 20

// exitError carries an exit status through cobra.
type exitError struct {
	code int
	err  error // nil when the status says it all (a verdict)
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Exit statuses that are not verdicts.
const (
	exitUsage = 2 // bad input or usage
	exitInfra = 5 // crashrig or the host could not do the job
)

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// crashrig executes one command line and returns its exit status.
func crashrig(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(args, stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "crashrig: %v\n", ee.err)
		}
		return ee.code
	}
	// cobra's own complaints (unknown flag, missing argument) are usage.
	fmt.Fprintf(stderr, "crashrig: %v\n", err)
	if isCobraUsage(err) {
		return exitUsage
	}
	return exitInfra
}

func isCobraUsage(err error) bool {
	for _, s := range []string{"unknown flag", "unknown shorthand", "unknown command", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

func newRoot(args []string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "crashrig",
		Short:         "boot a kernel with a reproducer under qemu and tell whether, how and how fast it crashes",
		Long:          manual,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("crashrig {{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newRunCmd(args, stdout, stderr),
		newShellCmd(stdin, stdout, stderr),
		newInitramfsCmd(stdout, stderr),
		newDoctorCmd(stdout, stderr),
		newParseCmd(stdin, stdout, stderr),
		newReproducersCmd(stdout),
		newGoNofixCmd(stdout),
		newBenchCmd(stdout, stderr),
		newLogCmd(stdout),
		newReportCmd(stdout),
		newCompareCmd(args, stdout, stderr),
		newBisectCmd(stdout, stderr),
		newCCCmd(stderr),
	)
	root.AddCommand(newBatchCmd(args, stdout, stderr), newMergeCmd(stdout, stderr), newSessionsCmd(stdout), newRunsCmd(stdout),
		newStoryCmd(stdout, stderr))
	return root
}
