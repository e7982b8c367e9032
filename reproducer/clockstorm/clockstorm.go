// Package clockstorm is the plain form of the seed story's stress: many
// goroutines calling time.Now (clock_gettime through the vDSO) in a tight
// loop, allocating as they go so that the garbage collector runs, scans and
// shrinks their small stacks while the clock calls happen.
package clockstorm

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// Main runs the storm until -d elapses (0: until killed). It fails (exit 1)
// if the clock ever goes backwards or a goroutine sees its own data change.
func Main(args []string) int {
	fs := flag.NewFlagSet("clockstorm", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g := fs.Int("g", 256, "goroutines")
	procs := fs.Int("gomaxprocs", 0, "GOMAXPROCS (0: leave as is)")
	d := fs.Duration("d", 0, "stop after this long (0: run until killed)")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(os.Stderr, "clockstorm: %v\nusage: clockstorm [-g 256] [-gomaxprocs N] [-d DURATION]\n", err)
		return 2
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	fmt.Printf("clockstorm: %d goroutines, GOMAXPROCS=%d\n", *g, runtime.GOMAXPROCS(0))
	var stop atomic.Bool
	var calls atomic.Uint64
	var bad atomic.Value
	var wg sync.WaitGroup
	for i := 0; i < *g; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			if msg := storm(id, &stop, &calls); msg != "" {
				bad.Store(msg)
				stop.Store(true)
			}
		}(i)
	}
	if *d > 0 {
		time.Sleep(*d)
		stop.Store(true)
	}
	wg.Wait()
	if msg, ok := bad.Load().(string); ok {
		fmt.Printf("clockstorm: FAIL: %s\n", msg)
		title := "clockstorm: heap data changed"
		if strings.Contains(msg, "backwards") {
			title = "clockstorm: clock went backwards"
		}
		fmt.Println(marker.Format(marker.Fail, "title", title))
		return 1
	}
	fmt.Printf("clockstorm: %d clock calls, no anomaly\n", calls.Load())
	return 0
}

// storm loops until stop is set; it returns a description of the first
// anomaly it sees.
func storm(id int, stop *atomic.Bool, calls *atomic.Uint64) string {
	prev := time.Now()
	var keep [][]byte
	for n := 0; !stop.Load(); n++ {
		now := time.Now()
		if now.Before(prev) {
			return fmt.Sprintf("goroutine %d: clock went backwards by %v", id, prev.Sub(now))
		}
		prev = now
		// A small, recognisable allocation: freed and reused by the GC.
		b := make([]byte, 64+n%192)
		for i := range b {
			b[i] = byte(id)
		}
		keep = append(keep, b)
		if len(keep) == 32 {
			for _, k := range keep {
				for _, c := range k {
					if c != byte(id) {
						return fmt.Sprintf("goroutine %d: heap data changed under it", id)
					}
				}
			}
			keep = keep[:0]
		}
		if n%1024 == 0 {
			calls.Add(1024)
			runtime.Gosched()
		}
	}
	return ""
}
