package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/internal/ccwrap"
)

func newCCCmd(stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "cc -- COMPILER [ARGS...]",
		Short: "compiler wrapper for crashrig bisect objects: extra flags for the objects a hash pattern selects",
		Long: `Run COMPILER with ARGS, adding the flags in $` + ccwrap.EnvFlags + ` when the step
compiles a C file into an object whose path hash matches $` + ccwrap.EnvPattern + `
("y" every object, "n" none, or comma-separated binary suffixes of the hash),
and append "HASH flags|plain PATH" to $` + ccwrap.EnvLog + ` for every object.
Everything else (links, assembler, option probes, --version) runs unchanged.
Use it as make CC='crashrig cc -- gcc'; crashrig bisect objects sets the
variables.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && args[0] == "--" {
				args = args[1:]
			}
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
				return usageErr("usage: crashrig cc -- COMPILER [ARGS...]")
			}
			return execCompiler(args, stderr)
		},
	}
}

// execCompiler replaces crashrig with the compiler, after adding the flags and logging.
func execCompiler(args []string, stderr io.Writer) error {
	pat, err := ccwrap.ParsePattern(os.Getenv(ccwrap.EnvPattern))
	if err != nil {
		return usageErr("$%s: %v", ccwrap.EnvPattern, err)
	}
	argv, obj, flagged := ccwrap.Args(args[1:], pat, strings.Fields(os.Getenv(ccwrap.EnvFlags)))
	if log := os.Getenv(ccwrap.EnvLog); log != "" && obj != "" {
		f, err := os.OpenFile(log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return &exitError{code: exitInfra, err: fmt.Errorf("$%s: %v", ccwrap.EnvLog, err)}
		}
		_, err = f.WriteString(ccwrap.LogLine(obj, flagged))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return &exitError{code: exitInfra, err: fmt.Errorf("$%s: %v", ccwrap.EnvLog, err)}
		}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return &exitError{code: 127, err: fmt.Errorf("compiler %s: %v", args[0], err)}
	}
	err = syscall.Exec(path, append([]string{args[0]}, argv...), os.Environ())
	return &exitError{code: 126, err: fmt.Errorf("running %s: %v", path, err)}
}

// ccShim runs crashrig as the compiler when it was started through a link named like
// the real compiler in $CRASHRIG_CC_REAL (crashrig bisect objects puts one first in the
// build's PATH). It reports false when crashrig was started as itself.
func ccShim(stderr io.Writer) (int, bool) {
	real := os.Getenv(ccwrap.EnvReal)
	if real == "" || len(os.Args) == 0 || filepath.Base(os.Args[0]) != filepath.Base(real) {
		return 0, false
	}
	err := execCompiler(append([]string{real}, os.Args[1:]...), stderr)
	fmt.Fprintf(stderr, "crashrig cc: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, true
	}
	return exitInfra, true
}
