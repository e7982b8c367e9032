// Package selftest is a reproducer with known outcomes, for checking that a
// kernel, an image and crashrig itself work together before trusting a
// verdict: it passes, panics, crashes the kernel, hangs the guest or exits
// as asked, after a set delay and with a set probability.
package selftest

import (
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// Modes, each a way to end.
var modes = map[string]func(*config) int{
	"pass":      func(*config) int { return 0 },
	"panic":     goPanic,
	"sysrq":     sysrqCrash,
	"fifo-hang": fifoHang,
	"exit":      func(c *config) int { return c.code },
	"segv":      func(*config) int { syscall.Kill(os.Getpid(), syscall.SIGSEGV); return sleep() },
	"sleep":     func(*config) int { return sleep() },
}

type config struct {
	mode  string
	after time.Duration
	jit   time.Duration
	p     float64
	code  int
	when  string
	show  bool
}

// Main runs one self-test. With -p below 1 the failure mode happens with
// that probability (drawn afresh each run) and the program otherwise sleeps
// until killed, like a reproducer that did not trigger.
func Main(args []string) int {
	fs := flag.NewFlagSet("selftest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &config{}
	fs.StringVar(&c.mode, "mode", "pass", "pass, panic, sysrq, fifo-hang, exit, segv or sleep")
	fs.DurationVar(&c.after, "after", 0, "wait this long first")
	fs.DurationVar(&c.jit, "jitter", 0, "then wait a random time more, exponentially distributed with this mean (a crash time that varies from run to run)")
	fs.Float64Var(&c.p, "p", 1, "probability that the mode happens in this run")
	fs.IntVar(&c.code, "code", 3, "exit status for -mode exit")
	fs.StringVar(&c.when, "when", "", "happen only if the guest matches: ncpu=N, ncpu>=N or cmdline=WORD")
	fs.BoolVar(&c.show, "show-random", false, "first report random values and addresses this run drew (an info marker), to check that runs are independent")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(os.Stderr, "selftest: %v\n", err)
		return 2
	}
	fn, ok := modes[c.mode]
	if !ok {
		fmt.Fprintf(os.Stderr, "selftest: unknown -mode %q\n", c.mode)
		return 2
	}
	fmt.Printf("selftest: mode=%s after=%v p=%g ncpu=%d\n", c.mode, c.after, c.p, runtime.NumCPU())
	if c.show {
		showRandom()
	}
	time.Sleep(c.after + time.Duration(rand.ExpFloat64()*float64(c.jit)))
	if !matches(c.when) || rand.Float64() >= c.p {
		fmt.Println("selftest: not triggered this run")
		if c.mode == "pass" || c.mode == "exit" {
			return 0
		}
		return sleep()
	}
	return fn(c)
}

// showRandom prints, as an info marker, what a run that starts from the
// same saved VM state as another must still draw afresh: the kernel's
// random bytes, Go's runtime-seeded generator and map hash seed, and the
// addresses the kernel's ASLR chose for the stack, the heap and a mapping.
func showRandom() {
	// The kernel's generator, read directly: crypto/rand would add half
	// a megabyte to every image for eight bytes.
	var k [8]byte
	if f, err := os.Open("/dev/urandom"); err == nil {
		f.Read(k[:])
		f.Close()
	}
	stack := 0
	heap := new([64]byte)
	m, _ := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	var mmap uintptr
	if len(m) > 0 {
		mmap = uintptr(unsafe.Pointer(&m[0]))
	}
	hash := maphash.String(maphash.MakeSeed(), "crashrig")
	fmt.Println(marker.Format(marker.Info, "rand_kernel", fmt.Sprintf("%x", k[:]), "rand_go", strconv.FormatUint(rand.Uint64(), 16),
		"maphash", strconv.FormatUint(hash, 16), "addr_stack", fmt.Sprintf("%p", &stack), "addr_heap", fmt.Sprintf("%p", heap),
		"addr_mmap", fmt.Sprintf("%#x", mmap)))
}

// sleep waits to be killed. (An empty select would make the Go runtime
// report a deadlock.)
func sleep() int {
	for {
		time.Sleep(time.Hour)
	}
}

// matches reports whether the guest fits the -when condition.
func matches(when string) bool {
	switch {
	case when == "":
		return true
	case strings.HasPrefix(when, "ncpu>="):
		n, _ := strconv.Atoi(when[len("ncpu>="):])
		return runtime.NumCPU() >= n
	case strings.HasPrefix(when, "ncpu="):
		n, _ := strconv.Atoi(when[len("ncpu="):])
		return runtime.NumCPU() == n
	case strings.HasPrefix(when, "cmdline="):
		b, _ := os.ReadFile("/proc/cmdline")
		for _, w := range strings.Fields(string(b)) {
			if w == when[len("cmdline="):] {
				return true
			}
		}
	}
	return false
}

type node struct{ next *node }

//go:noinline
func deref(n *node) *node { return n.next }

func goPanic(*config) int {
	var n *node
	deref(n)
	return 0
}

func sysrqCrash(*config) int {
	if err := os.WriteFile("/proc/sysrq-trigger", []byte("c"), 0); err != nil {
		fmt.Fprintf(os.Stderr, "selftest: %v\n", err)
		return 2
	}
	return sleep()
}

// fifoHang takes every CPU with a SCHED_FIFO spinner after switching off
// RT throttling, so nothing else (the init's heartbeat included) runs again.
func fifoHang(*config) int {
	if err := os.WriteFile("/proc/sys/kernel/sched_rt_runtime_us", []byte("-1"), 0); err != nil {
		fmt.Fprintf(os.Stderr, "selftest: %v\n", err)
		return 2
	}
	n := runtime.NumCPU()
	runtime.GOMAXPROCS(n + 1)
	for cpu := 0; cpu < n; cpu++ {
		go spin(cpu)
	}
	return sleep()
}

func spin(cpu int) {
	runtime.LockOSThread()
	var mask [16]uint64
	mask[cpu/64] = 1 << (cpu % 64)
	syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask)))
	param := struct{ prio int32 }{50}
	const schedFIFO = 1
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedFIFO, uintptr(unsafe.Pointer(&param))); e != 0 {
		fmt.Fprintf(os.Stderr, "selftest: sched_setscheduler: %v\n", e)
	}
	for {
	}
}
