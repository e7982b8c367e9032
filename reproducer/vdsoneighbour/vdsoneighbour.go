// Package vdsoneighbour is a Go program built to be caught by a vDSO that
// probes the stack far below the stack pointer (the seed story: a
// clock_gettime built with -fstack-check touches the word ~4 KiB below with
// a non-atomic `orq $0x0,(%rsp)`), when it runs on a Go runtime that calls
// the vDSO on the goroutine's own stack, as Go did before the fix for Go
// issue 20427 (crashrig gonofix makes such a toolchain).
//
// Goroutine stacks start at 2 KiB and sit side by side in the runtime's
// stack spans, so a probe 4 KiB below a shallow goroutine's stack pointer
// lands in the frame of the goroutine two stacks further down. The program
// starts a crowd of goroutines (-g), each of which notes where its stack
// is and parks; it then picks pairs whose stacks lie -reach bytes apart.
// In each pair the upper goroutine (the prober) calls time.Now in a tight
// loop at shallow depth; the lower one (the guard) keeps an array of words
// in its own frame across the depths the probe reaches, rewrites all of
// them with a new pattern over and over, and checks them after every
// sweep. A probe that reads a word just before the guard stores it and
// writes the old value back just after loses the guard's store: the guard
// panics with "stack value corrupted: …", a stable crash title.
//
// The race needs the two goroutines running at once: with GOMAXPROCS=1
// (-gomaxprocs 1), single-threaded TCG, a vDSO without a probe, or a runtime
// that switches to the system stack (every Go since 1.9.x), nothing is
// corrupted and the program exits 0 at -d. No frame of a prober or a guard
// may grow its 2 KiB stack (a grown stack is copied elsewhere and the pair
// falls apart): they print nothing and call nothing deep.
package vdsoneighbour

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// stackSize is a new goroutine's stack: 2 KiB, aligned to its size.
const stackSize = 2048

// words is how many words a guard keeps: 768 bytes of its frame, within
// what a 2 KiB stack holds without growing.
const words = 96

// A config is the program's flags.
type config struct {
	crowd    int           // goroutines started to find pairs among
	pairs    int           // prober-guard pairs (0: GOMAXPROCS/2, at least 1)
	reach    int           // bytes between a prober's stack top and its guard's
	procs    int           // GOMAXPROCS (0: leave as is)
	duration time.Duration // stop after this long (0: until killed)
}

func parse(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("vdsoneighbour", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&c.crowd, "g", 64, "goroutines to find pairs among")
	fs.IntVar(&c.pairs, "pairs", 0, "prober-guard pairs (0: GOMAXPROCS/2, at least 1)")
	fs.IntVar(&c.reach, "reach", 4096, "bytes between a prober's stack and its guard's: the probe's depth rounded down to whole stacks")
	fs.IntVar(&c.procs, "gomaxprocs", 0, "GOMAXPROCS (0: leave as is)")
	fs.DurationVar(&c.duration, "d", 0, "stop after this long (0: run until killed)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.crowd < 2:
		return c, fmt.Errorf("-g %d: want 2 or more goroutines", c.crowd)
	case c.pairs < 0 || c.pairs > c.crowd/2:
		return c, fmt.Errorf("-pairs %d: want 0 to %d (half of -g)", c.pairs, c.crowd/2)
	case c.reach <= 0 || c.reach%stackSize != 0:
		return c, fmt.Errorf("-reach %d: want a positive multiple of %d (the stack size)", c.reach, stackSize)
	case c.procs < 0 || c.duration < 0:
		return c, fmt.Errorf("-gomaxprocs and -d must not be negative")
	}
	return c, nil
}

const usage = "usage: vdsoneighbour [-g 64] [-pairs N] [-reach 4096] [-gomaxprocs N] [-d DURATION]"

// Main runs the pairs until -d elapses (0: until killed) and returns 0;
// a guard that finds its stack changed panics.
func Main(args []string) int {
	c, err := parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vdsoneighbour: %v\n%s\n", err, usage)
		return 2
	}
	if c.procs > 0 {
		runtime.GOMAXPROCS(c.procs)
	}
	if c.pairs == 0 {
		c.pairs = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return run(c)
}

// A member is one goroutine of the crowd.
type member struct {
	top  uintptr       // its stack's upper end
	role chan role     // what to do, once the pairs are chosen
	done chan struct{} // closed when the role is over
	rep  report        // what it saw, valid after done
}

// A role is a member's job.
type role struct {
	kind int           // idle, prober or guard
	stop *atomic.Bool  // probers and guards poll it
	quit chan struct{} // closed with stop set: idle members wait for it
}

const (
	idle = iota
	prober
	guard
)

// A report is what a member saw, in words a parked crowd can hold.
type report struct {
	calls   uint64  // prober: time.Now calls
	sweeps  uint64  // guard: rewrites of its words
	moved   uintptr // nonzero: the stack top it found instead of its own (the stack grew)
	lo, hi  int     // guard: depths below the stack top its words span
	callAt  int     // prober: depth of the frame that calls time.Now
	backsec int64   // prober: the clock went back by this many ns (0: never)

	corrupted bool // guard: a word changed (only with testFail set)
}

func run(c config) int {
	crowd := make([]*member, c.crowd)
	var started sync.WaitGroup
	for i := range crowd {
		m := &member{role: make(chan role), done: make(chan struct{})}
		crowd[i] = m
		started.Add(1)
		go m.live(&started)
	}
	started.Wait()
	tops := make([]uintptr, len(crowd))
	for i, m := range crowd {
		tops[i] = m.top
	}
	ps := pairs(tops, uintptr(c.reach), c.pairs)
	if len(ps) == 0 {
		fmt.Fprintf(os.Stderr, "vdsoneighbour: no two of %d goroutine stacks lie %d bytes apart; try a larger -g\n", c.crowd, c.reach)
		quit := make(chan struct{})
		close(quit)
		for _, m := range crowd {
			m.role <- role{kind: idle, quit: quit}
		}
		return 2
	}
	var stop atomic.Bool
	quit := make(chan struct{})
	kinds := make([]int, len(crowd))
	for _, p := range ps {
		kinds[p[0]], kinds[p[1]] = prober, guard
	}
	fmt.Printf("vdsoneighbour: %d goroutines, GOMAXPROCS=%d, %d pair(s) %d bytes apart\n",
		c.crowd, runtime.GOMAXPROCS(0), len(ps), c.reach)
	for i, m := range crowd {
		m.role <- role{kind: kinds[i], stop: &stop, quit: quit}
	}
	if c.duration == 0 {
		select {}
	}
	time.Sleep(c.duration)
	stop.Store(true)
	close(quit)
	return summarize(crowd, ps)
}

// live is a member's goroutine: it notes its stack top, waits for its role
// and plays it.
func (m *member) live(started *sync.WaitGroup) {
	var here byte
	m.top = stackTop(uintptr(unsafe.Pointer(&here)))
	started.Done()
	r := <-m.role
	switch r.kind {
	case prober:
		m.probe(r.stop)
	case guard:
		m.guard(r.stop)
	default:
		// Blocked, not sleeping: a timer would call the clock from this
		// stack too.
		<-r.quit
	}
	close(m.done)
}

// stackTop is the upper end of the 2 KiB stack holding addr.
func stackTop(addr uintptr) uintptr {
	return (addr | (stackSize - 1)) + 1
}

// pairs picks up to n pairs (prober, guard) of indexes into tops whose
// stack tops lie exactly reach apart, the guard below; no goroutine is in
// two pairs. Pairs are taken from the top of the address space down.
func pairs(tops []uintptr, reach uintptr, n int) [][2]int {
	at := map[uintptr]int{}
	order := make([]int, len(tops))
	for i, t := range tops {
		at[t], order[i] = i, i
	}
	sort.Slice(order, func(a, b int) bool { return tops[order[a]] > tops[order[b]] })
	used := map[int]bool{}
	var ps [][2]int
	for _, p := range order {
		if len(ps) == n {
			break
		}
		g, ok := at[tops[p]-reach]
		if !ok || used[p] || used[g] {
			continue
		}
		used[p], used[g] = true, true
		ps = append(ps, [2]int{p, g})
	}
	return ps
}

// probe calls time.Now at shallow depth until stop, checking that the
// clock never goes back.
//
//go:noinline
func (m *member) probe(stop *atomic.Bool) {
	var here byte
	m.rep.callAt = int(m.top - uintptr(unsafe.Pointer(&here)))
	prev := time.Now()
	for n := uint64(1); ; n++ {
		now := time.Now()
		if d := prev.Sub(now); d > 0 && m.rep.backsec == 0 {
			m.rep.backsec = int64(d)
		}
		prev = now
		if n%1024 == 0 && stop.Load() {
			m.rep.calls = n
			break
		}
	}
	if t := stackTop(uintptr(unsafe.Pointer(&here))); t != m.top {
		m.rep.moved = t
	}
}

// guard keeps words in its frame, rewrites and checks them until stop; it
// panics at the first word that does not hold what it last stored.
//
//go:noinline
func (m *member) guard(stop *atomic.Bool) {
	var w [words]uint64
	if t := stackTop(uintptr(unsafe.Pointer(&w[0]))); t != m.top {
		m.rep.moved = t // the frame did not fit: the stack grew before it
	}
	m.rep.hi = int(m.top - uintptr(unsafe.Pointer(&w[0])))
	m.rep.lo = int(m.top - uintptr(unsafe.Pointer(&w[words-1])))
	for gen := uint64(1); ; gen++ {
		fill(&w, gen)
		if i := check(&w, gen); i >= 0 {
			// The details on stderr, then a panic whose message (and so
			// crash title) is short and the same for every run but its
			// numbers.
			detail, msg := describe(int(m.top-uintptr(unsafe.Pointer(&w[i]))), w[i], gen, i)
			if testFail != nil {
				testFail(detail, msg)
				m.rep.corrupted = true
				return
			}
			fmt.Fprintf(os.Stderr, "vdsoneighbour: %s\n", detail)
			panic(msg)
		}
		if gen%256 == 0 && stop.Load() {
			m.rep.sweeps = gen
			return
		}
	}
}

// pattern is what word i holds after sweep gen: distinct per word and per
// sweep, so a stale value tells how many sweeps old it is.
func pattern(gen uint64, i int) uint64 {
	return gen<<8 | uint64(i)
}

//go:noinline
func fill(w *[words]uint64, gen uint64) {
	for i := range w {
		w[i] = pattern(gen, i)
	}
}

// check returns the index of the first word that does not hold sweep
// gen's pattern, or -1.
//
//go:noinline
func check(w *[words]uint64, gen uint64) int {
	for i := range w {
		if w[i] != pattern(gen, i) {
			return i
		}
	}
	return -1
}

// testFail, when set, replaces the panic of a guard that finds a word
// changed.
var testFail func(detail, msg string)

// describe says what a word held and what it should have held.
func describe(depth int, got, gen uint64, i int) (detail, msg string) {
	want := pattern(gen, i)
	msg = fmt.Sprintf("stack value corrupted: word at depth %d holds %#x, want %#x", depth, got, want)
	detail = fmt.Sprintf("guard word %d of %d, %d bytes below its stack top, holds %#x after sweep %d: ", i, words, depth, got, gen)
	if got&0xff == uint64(i) && got>>8 < gen {
		return detail + fmt.Sprintf("an update was lost (the value of %d sweep(s) before)", gen-got>>8), msg
	}
	return detail + "overwritten with a value it never held", msg
}

// summarize waits for every member and prints what the pairs did.
func summarize(crowd []*member, ps [][2]int) int {
	for _, m := range crowd {
		<-m.done
	}
	var calls, sweeps uint64
	for _, p := range ps {
		pr, gd := crowd[p[0]].rep, crowd[p[1]].rep
		calls += pr.calls
		sweeps += gd.sweeps
		fmt.Printf("vdsoneighbour: pair %#x/%#x: prober calls time.Now from depth %d, %d calls; guard words at depths %d-%d, %d sweeps\n",
			crowd[p[0]].top, crowd[p[1]].top, pr.callAt, pr.calls, gd.hi, gd.lo, gd.sweeps)
		for _, r := range []report{pr, gd} {
			if r.moved != 0 {
				fmt.Printf("vdsoneighbour: warning: a stack moved to %#x (it grew): that pair tested nothing\n", r.moved)
			}
			if r.backsec != 0 {
				fmt.Printf("vdsoneighbour: warning: the clock went back by %v\n", time.Duration(r.backsec))
			}
		}
	}
	fmt.Println(marker.Format(marker.Info, "calls", fmt.Sprint(calls), "sweeps", fmt.Sprint(sweeps), "pairs", fmt.Sprint(len(ps))))
	for _, p := range ps {
		if crowd[p[1]].rep.corrupted {
			fmt.Printf("vdsoneighbour: %d clock calls, %d sweeps, a stack value corrupted\n", calls, sweeps)
			return 1
		}
	}
	fmt.Printf("vdsoneighbour: %d clock calls, %d sweeps, no stack value corrupted\n", calls, sweeps)
	return 0
}
