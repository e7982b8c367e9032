package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/crashrig/crashrig/reproducer/marker"
)

// orders are what the host asks of this boot, from crashrig.* words on the
// kernel command line.
type orders = marker.Orders

func initMain() {
	up := uptime()
	mountAll()
	o, err := readOrders()
	say(marker.Init, "up", secs(up), "kernel", kernelRelease(), "ncpu", strconv.Itoa(numCPU()))
	loadModules()
	switch {
	case err != nil:
		fmt.Printf("crashrig init: %v\n", err)
		say(marker.Exit, "it", "0", "how", "error", "msg", err.Error())
	case o.TTY != "":
		interactive(o)
	default:
		if o.Wait {
			o = awaitResume()
		}
		for it := 0; it < o.Iterations; it++ {
			runOnce(o, it)
		}
	}
	say(marker.Off, "up", secs(uptime()))
	powerOff(o.Restart)
}

// say prints one marker line in a single write.
func say(ev string, kv ...string) {
	os.Stdout.WriteString(marker.Format(ev, kv...) + "\n")
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

func readOrders() (orders, error) {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return orders{Iterations: 1, Beat: time.Second}, err
	}
	return marker.ParseOrders(string(b))
}

// runOnce runs the reproducer once and reports how it ended.
func runOnce(o orders, it int) {
	cmd := command(o.Run, o.Args)
	cmd.Env = append([]string{"PATH=/bin:/sbin", "HOME=/", "TERM=linux",
		"CRASHRIG_ITERATION=" + strconv.Itoa(it)}, o.Env...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	itS := strconv.Itoa(it)

	start := uptime()
	say(marker.Start, "it", itS, "up", secs(start), "repro", o.Run)
	if cmd.Err != nil {
		say(marker.Exit, "it", itS, "up", secs(uptime()), "el", "0", "how", "error", "msg", cmd.Err.Error())
		return
	}
	if err := cmd.Start(); err != nil {
		say(marker.Exit, "it", itS, "up", secs(uptime()), "el", "0", "how", "error", "msg", err.Error())
		return
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	beat := time.NewTicker(o.Beat)
	defer beat.Stop()
	var limit <-chan time.Time
	if o.Duration > 0 {
		limit = time.After(o.Duration)
	}
	for {
		select {
		case <-beat.C:
			now := uptime()
			say(marker.Beat, "it", itS, "up", secs(now), "el", secs(now-start))
		case <-limit:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			now := uptime()
			say(marker.Exit, "it", itS, "up", secs(now), "el", secs(now-start), "how", "duration")
			reapOrphans()
			return
		case <-done:
			now := uptime()
			kv := []string{"it", itS, "up", secs(now), "el", secs(now - start)}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				kv = append(kv, "how", "signal", "sig", signalName(ws.Signal()))
			} else {
				kv = append(kv, "how", "exit", "status", strconv.Itoa(ws.ExitStatus()))
			}
			// Leftover children of the reproducer die with it.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			say(marker.Exit, kv...)
			reapOrphans()
			return
		}
	}
}

// command is how to start run: a built-in is this binary under the
// reproducer's name, an ELF file runs as it is, a script whose #! line
// names another interpreter the image has runs through it, and any other
// script is sourced by /bin/sh. The arguments are set inside the command
// string too, since u-root's gosh ignores those after -c. cmd.Err is set
// when a script finds no shell.
func command(run string, args []string) *exec.Cmd {
	if !strings.HasPrefix(run, "/") {
		return &exec.Cmd{Path: "/init", Args: append([]string{run}, args...)}
	}
	head := make([]byte, 256)
	if f, err := os.Open(run); err == nil {
		n, _ := f.Read(head)
		head = head[:n]
		f.Close()
	}
	if strings.HasPrefix(string(head), "\x7fELF") {
		return exec.Command(run, args...)
	}
	if line, ok := strings.CutPrefix(string(head), "#!"); ok {
		line, _, _ = strings.Cut(line, "\n")
		if f := strings.Fields(line); len(f) > 0 && f[0] != "/bin/sh" {
			if _, err := os.Stat(f[0]); err == nil {
				return exec.Command(run, args...)
			}
		}
	}
	script := "set --"
	for _, a := range args {
		script += " " + shQuote(a)
	}
	script += "; . " + shQuote(run)
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, run}, args...)...)
	if _, err := os.Stat("/bin/sh"); err != nil {
		cmd.Err = fmt.Errorf("%s is a script and the image has no /bin/sh (use --base busybox or u-root)", run)
	}
	return cmd
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// reapOrphans collects exited processes that were reparented to init.
func reapOrphans() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
