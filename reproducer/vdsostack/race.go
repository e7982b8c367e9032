//go:build linux && amd64

package vdsostack

import (
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A raceResult is what the race found for one function.
type raceResult struct {
	fn         string
	calls      uint64 // calls made on the counter stacks
	increments uint64 // atomic increments of its counter words
	lost       uint64 // increments missing from the words
	gained     uint64 // excess over the increments (a plain store, not a probe)
	lostAt     []int  // depths below the stack pointer of words that lost any
	words      int    // counter words per stack
}

// window returns the depths below a call's stack pointer where counter
// words go: around the deepest access (the footprint), never in the frame
// the call really writes. Depths are multiples of 8, deepest first. The
// deepest access lies within 16 bytes above the footprint, and a probed
// prologue (sub $0x1000; orq; sub $frame; orq) puts its second slot a small
// frame above that, so the words span 64 bytes above the footprint. The two
// words below the footprint are controls that nothing may touch. Few words
// matter: every increment spent on a word the probe never hits is wasted.
func window(footprint, written int) []int {
	hi := footprint + 16
	lo := max(footprint-64, (written+16+7)&^7)
	var depths []int
	for d := hi; d >= lo; d -= 8 {
		depths = append(depths, d)
	}
	return depths
}

// A site is one function's counter stack for one prober goroutine.
type site struct {
	fn     int // index into the race's functions
	pc     uintptr
	sp     uintptr
	a0, a1 uintptr
	st     *stack
	depths []int
	words  []*uint64
}

// newSite maps a stack for a call of fn whose counter words sit at depths.
func newSite(i int, fn function, pc uintptr, depths []int, clock int) (*site, error) {
	height := (depths[0] + 64 + 15) &^ 15
	st, err := newStack(height)
	if err != nil {
		return nil, err
	}
	s := &site{fn: i, pc: pc, sp: st.sp(height), st: st, depths: depths}
	s.a0, s.a1 = fn.args(uintptr(clock), st.scratch)
	for _, d := range depths {
		s.words = append(s.words, st.word(height, d))
	}
	return s, nil
}

// race runs probers, which call every function in a loop on its counter
// stack, against incrementers, which atomically increment every counter
// word and count their increments, for d. Per function it needs a footprint
// and the bytes written (from measure). GOMAXPROCS decides the goroutines:
// half probe (at least one), the rest increment (at least one).
func race(fns []function, pcs []uintptr, fps []footprint, d time.Duration, clock int) ([]raceResult, error) {
	procs := runtime.GOMAXPROCS(0)
	probers := max(1, procs/2)
	incrementers := max(1, procs-probers)
	sites := make([][]*site, probers)
	var all []*site
	defer func() {
		for _, s := range all {
			s.st.close()
		}
	}()
	for p := range sites {
		for i, fn := range fns {
			s, err := newSite(i, fn, pcs[i], window(fps[i].bytes, fps[i].written), clock)
			if err != nil {
				return nil, err
			}
			sites[p] = append(sites[p], s)
			all = append(all, s)
		}
	}
	var words []*uint64
	for _, s := range all {
		words = append(words, s.words...)
	}

	deadline := time.Now().Add(d)
	calls := make([][]uint64, probers)
	counts := make([][]uint64, incrementers)
	var wg sync.WaitGroup
	for p := range probers {
		wg.Go(func() { calls[p] = probeLoop(sites[p], deadline) })
	}
	for i := range incrementers {
		wg.Go(func() { counts[i] = incrementLoop(words, i*len(words)/incrementers, deadline) })
	}
	wg.Wait()
	return tally(fns, all, sites, calls, counts), nil
}

// Both loops check their own deadline and yield every loopCheck rounds: a
// stop flag set by another goroutine took minutes to be seen under
// GOMAXPROCS=1, since the prober spends its time in non-preemptible code.
const loopCheck = 1000

func probeLoop(sites []*site, deadline time.Time) []uint64 {
	calls := make([]uint64, len(sites))
	for n := 1; ; n++ {
		for i, s := range sites {
			call(s.pc, s.sp, s.a0, s.a1)
			calls[i]++
		}
		if n%loopCheck == 0 {
			if time.Now().After(deadline) {
				return calls
			}
			runtime.Gosched()
		}
	}
}

func incrementLoop(words []*uint64, start int, deadline time.Time) []uint64 {
	counts := make([]uint64, len(words))
	j := start
	for n := 1; ; n++ {
		atomic.AddUint64(words[j], 1)
		counts[j]++
		if j++; j == len(words) {
			j = 0
		}
		if n%loopCheck == 0 {
			if time.Now().After(deadline) {
				return counts
			}
			runtime.Gosched()
		}
	}
}

// tally compares every word with the increments made to it. The words are
// in the order of all; counts index them the same way.
func tally(fns []function, all []*site, sites [][]*site, calls, counts [][]uint64) []raceResult {
	res := make([]raceResult, len(fns))
	for i, fn := range fns {
		res[i].fn = fn.name
	}
	for p := range sites {
		for i, s := range sites[p] {
			res[s.fn].calls += calls[p][i]
		}
	}
	lostAt := make([]map[int]bool, len(fns))
	k := 0
	for _, s := range all {
		r := &res[s.fn]
		r.words = len(s.words)
		for j, w := range s.words {
			var want uint64
			for _, c := range counts {
				want += c[k]
			}
			k++
			got := atomic.LoadUint64(w)
			r.increments += want
			switch {
			case got < want:
				r.lost += want - got
				if lostAt[s.fn] == nil {
					lostAt[s.fn] = make(map[int]bool)
				}
				lostAt[s.fn][s.depths[j]] = true
			case got > want:
				r.gained += got - want
			}
		}
	}
	for i := range res {
		res[i].lostAt = slices.Sorted(maps.Keys(lostAt[i]))
		slices.Reverse(res[i].lostAt)
	}
	return res
}
