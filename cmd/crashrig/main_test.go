package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/crashrig/crashrig/internal/testkernel"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"crashrig": func() { os.Exit(crashrig(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
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
