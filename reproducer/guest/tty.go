package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// interactive runs a shell on the serial console, for crashrig shell: the
// console becomes the shell's controlling terminal (so Ctrl-C and job
// control work), sized as the host's terminal was; there is no duration
// and no heartbeat. The reproducer stays at hand: /bin/repro runs it with
// its arguments, the banner names it and $REPRO holds its command line.
// When the shell exits the guest powers off.
func interactive(o orders) {
	tty, err := os.OpenFile("/dev/ttyS0", os.O_RDWR, 0)
	if err != nil {
		if tty, err = os.OpenFile("/dev/console", os.O_RDWR, 0); err != nil {
			fmt.Printf("crashrig init: no console for the shell: %v\n", err)
			return
		}
	}
	defer tty.Close()
	if cols, rows, ok := parseSize(o.TTY); ok {
		ws := struct{ rows, cols, x, y uint16 }{uint16(rows), uint16(cols), 0, 0}
		syscall.Syscall(syscall.SYS_IOCTL, tty.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	}
	repro := reproLine(o)
	if _, err := os.Stat("/bin/sh"); err != nil {
		fmt.Fprintf(tty, "crashrig init: this image has no /bin/sh: use --base busybox or --base u-root\n")
		return
	}
	// `repro` runs the reproducer as crashrig run would, extra arguments
	// added.
	if _, err := os.Lstat("/bin/repro"); err != nil {
		os.WriteFile("/bin/repro", []byte(wrapper(o)), 0o755)
	}
	fmt.Fprintf(tty, "crashrig shell: `repro` runs the reproducer: %s (also in $REPRO); exit the shell to power off\n", repro)
	cmd := exec.Command("/bin/sh")
	cmd.Env = append([]string{"PATH=/bin:/sbin:/repro", "HOME=/root", "TERM=linux", "REPRO=" + repro}, o.Env...)
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(tty, "crashrig init: shell: %v\n", err)
	}
	reapOrphans()
}

// parseSize reads "COLSxROWS".
func parseSize(s string) (cols, rows int, ok bool) {
	c, r, found := strings.Cut(s, "x")
	if !found {
		return 0, 0, false
	}
	cols, err1 := strconv.Atoi(c)
	rows, err2 := strconv.Atoi(r)
	return cols, rows, err1 == nil && err2 == nil && cols > 0 && rows > 0 && cols < 1<<16 && rows < 1<<16
}

// reproLine is the reproducer's command line as a shell reads it.
func reproLine(o orders) string {
	words := []string{o.Run}
	if !strings.HasPrefix(o.Run, "/") {
		words[0] = "/bin/" + o.Run
	}
	for _, a := range o.Args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = shQuote(a)
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// wrapper is /bin/repro: it runs the reproducer as runOnce would, with any
// extra arguments after the ordered ones. A script is sourced after `set
// --`, since u-root's gosh gives scripts no arguments.
func wrapper(o orders) string {
	cmd := command(o.Run, o.Args)
	if cmd.Path != "/bin/sh" {
		return "#!/bin/sh\nexec " + reproLine(o) + " \"$@\"\n"
	}
	set := "set --"
	for _, a := range o.Args {
		set += " " + shQuote(a)
	}
	return "#!/bin/sh\n" + set + " \"$@\"\n. " + shQuote(o.Run) + "\n"
}
