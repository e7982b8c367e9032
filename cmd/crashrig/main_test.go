package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/crashrig/crashrig/internal/testkernel"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"crashrig": func() {
			debug.SetMemoryLimit(memoryLimit) // as main does
			code := crashrig(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
			reportPeakRSS()
			os.Exit(code)
		},
		// exitcode runs a command and prints "status N" after its output,
		// so scripts can check exact exit statuses.
		"exitcode": func() {
			cmd := exec.Command(os.Args[1], os.Args[2:]...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
			err := cmd.Run()
			var ee *exec.ExitError
			switch {
			case err == nil:
				fmt.Println("status 0")
			case errors.As(err, &ee):
				fmt.Printf("status %d\n", ee.ExitCode())
			default:
				fmt.Fprintln(os.Stderr, err)
				os.Exit(100)
			}
		},
	})
}

// reportPeakRSS prints crashrig's own peak resident memory (VmHWM: this process only,
// not the qemu it ran) when $CRASHRIG_TEST_PEAK_RSS names a limit in KiB, and "OVER" when
// it was exceeded, for scripts that bound memory.
func reportPeakRSS() {
	limit := os.Getenv("CRASHRIG_TEST_PEAK_RSS")
	if limit == "" {
		return
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	var kb, max int64
	fmt.Sscan(limit, &max)
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSpace(rest), &kb)
		}
	}
	verdict := "within"
	if kb > max {
		verdict = "OVER"
	}
	fmt.Fprintf(os.Stderr, "peak RSS %d kB, %s the limit of %d kB\n", kb, verdict, max)
}

// TestScripts runs testdata/script/*.txtar. Scripts that boot a real
// kernel start with [!kernel] skip and find it in $KERNEL.
func TestScripts(t *testing.T) {
	kernel := ""
	if !testing.Short() {
		kernel = testkernel.Path(t)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("KERNEL", kernel)
			e.Setenv("XDG_STATE_HOME", e.WorkDir+"/state")
			// Share the guest binary cache across scripts: building it is
			// the slow part, and it is keyed by content.
			if c := os.Getenv("CRASHRIG_CACHE"); c != "" {
				e.Setenv("CRASHRIG_CACHE", c)
			} else if home, err := os.UserHomeDir(); err == nil {
				e.Setenv("CRASHRIG_CACHE", home+"/.cache/crashrig")
			}
			e.Setenv("HOME", os.Getenv("HOME"))
			e.Setenv("PATH", os.Getenv("PATH"))
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "kernel" {
				return kernel != "", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}
