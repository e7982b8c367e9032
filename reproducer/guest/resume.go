package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// awaitResume is the guest's half of a run started from a saved VM state:
// it prints the ready marker (the host saves the VM after it) and reads
// the console until a valid Resume line arrives. Before anything runs it
// feeds the seed to the kernel's random number generator and forces a
// reseed, so that the reproducer, started afresh by exec, gets new address
// space layout, AT_RANDOM and thus Go's hash and scheduler seeds, and sets
// the wall clock to the host's. Lines that do not parse are reported and
// skipped.
func awaitResume() orders {
	noEcho(0)
	say(marker.Ready, "up", secs(uptime()))
	in := bufio.NewReaderSize(os.Stdin, 8<<10)
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			fmt.Printf("crashrig init: reading the console: %v\n", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		r, err := marker.ParseResume(line)
		if err != nil {
			if len(line) > 1 {
				fmt.Printf("crashrig init: ignoring a console line: %v\n", err)
			}
			continue
		}
		seeded := reseed(r.Seed)
		if !strings.HasPrefix(r.Orders.Run, "/") {
			warmUp()
		}
		clock := "set"
		tv := syscall.NsecToTimeval(r.Now.UnixNano())
		if err := syscall.Settimeofday(&tv); err != nil {
			clock = err.Error()
		}
		say(marker.Init, "up", secs(uptime()), "kernel", kernelRelease(), "ncpu", strconv.Itoa(numCPU()),
			"resumed", "1", "seeded", seeded, "clock", clock)
		return r.Orders
	}
}

// warmUp runs this binary once as the do-nothing built-in "true". A
// built-in reproducer is this binary under another name, and in a booted
// guest its start-up code (the Go runtime's and every package's
// initialisation) has just run as /init, so an emulator that translates
// code on first use (qemu's TCG) has it translated already. A restored
// guest runs in a fresh qemu with nothing translated: without this the
// reproducer would start 0.1–0.3 s later than after a boot, and its time
// to crash, measured from its start, would be longer by as much.
func warmUp() {
	cmd := &exec.Cmd{Path: "/init", Args: []string{"true"}, Dir: "/"}
	cmd.Run()
}

// Linux's <linux/random.h> ioctls.
const (
	rndAddEntropy = 0x40085203 // _IOW('R', 0x03, int[2])
	rndReseedCRNG = 0x5207     // _IO('R', 0x07)
)

// reseed credits seed to the kernel's input pool and reseeds the CRNG at
// once (every later get_random_* draws from the new state); it says what
// happened, for the marker.
func reseed(seed []byte) string {
	f, err := os.OpenFile("/dev/urandom", os.O_WRONLY, 0)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	info := make([]byte, 8+len(seed))
	*(*int32)(unsafe.Pointer(&info[0])) = int32(8 * len(seed)) // entropy_count in bits
	*(*int32)(unsafe.Pointer(&info[4])) = int32(len(seed))     // buf_size
	copy(info[8:], seed)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), rndAddEntropy, uintptr(unsafe.Pointer(&info[0]))); e != 0 {
		// Without the ioctl, writing still mixes the bytes in (uncredited).
		f.Write(seed)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), rndReseedCRNG, 0); e != 0 {
		return "reseed:" + e.Error()
	}
	return strconv.Itoa(len(seed))
}

// noEcho turns off the terminal's echo on fd, so that the host's Resume
// line is not printed back into the console log.
func noEcho(fd uintptr) {
	var t syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t))); e != 0 {
		return
	}
	t.Lflag &^= syscall.ECHO | syscall.ECHONL
	syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCSETS, uintptr(unsafe.Pointer(&t)))
}
