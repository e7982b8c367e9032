// Package go20427 is the sample program of Go issues 20427 and 15658, the
// reproducer of the seed story: it keeps N goroutines each starting and
// waiting for `true`, replacing each as it finishes, forever. Fork and exec
// from many threads keep the scheduler, and so the vDSO clock calls, busy
// on small goroutine stacks. The image must carry /bin/true.
package go20427

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// Main runs the reproducer until -d elapses (0: forever; the guest init
// ends it at the run's duration anyway).
func Main(args []string) int {
	fs := flag.NewFlagSet("go20427", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	n := fs.Int("n", 8, "goroutines running `true` at once")
	procs := fs.Int("gomaxprocs", 0, "GOMAXPROCS (0: leave as is)")
	d := fs.Duration("d", 0, "stop after this long (0: run until killed)")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(os.Stderr, "go20427: %v\nusage: go20427 [-n 8] [-gomaxprocs N] [-d DURATION]\n", err)
		return 2
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	fmt.Println("Starting a bunch of goroutines...")
	done := make(chan struct{}, *n)
	for i := 0; i < *n; i++ {
		go run(done)
	}
	var stop <-chan time.Time
	if *d > 0 {
		stop = time.After(*d)
	}
	for {
		select {
		case <-done:
			go run(done)
		case <-stop:
			return 0
		}
	}
}

func run(done chan<- struct{}) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err == nil {
		cmd.Wait()
	}
	done <- struct{}{}
}
