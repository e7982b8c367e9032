package verdict

import (
	"fmt"
	"regexp"

	"github.com/crashrig/crashrig/internal/console"
)

// numbers are normalised out of titles a reproducer declares, so that
// the same failure always has the same title (the numbers stay in the
// run's info and report).
var numbers = regexp.MustCompile(`\b\d+(\.\d+)?\b`)

// PVPanicTitle titles a kernel panic that only qemu's pvpanic device saw.
const PVPanicTitle = "kernel panic: no console report (pvpanic)"

type judged struct {
	Iteration
	reason string
	report *console.Report
}

// judge decides one iteration from its markers and the reports printed
// while it ran.
func judge(ev Evidence, it *iteration, idx int) judged {
	j := judged{Iteration: Iteration{Index: idx}}
	// The seed init's start has no guest uptime: times come from the host.
	startUp, hasUp := it.start.Float("up")
	if it.exit != nil {
		j.Ran, _ = it.exit.Float("el")
	} else if it.lastBeat != nil {
		j.Ran, _ = it.lastBeat.Float("el")
	}
	if r := firstReport(ev.Console, it.start.Offset, it.end); r != nil {
		j.Verdict, j.Kind, j.Title, j.Family, j.report = Crash, string(r.Kind), r.Title, r.Family, r
		j.HostTTC = ev.hostAt(r.Start) - it.start.Host
		switch {
		case hasUp && r.HasKernelTime && r.KernelTime >= startUp:
			j.TimeToCrash = r.KernelTime - startUp
		case hasUp && it.exit != nil && r.Kind == console.KindGo:
			j.TimeToCrash, _ = it.exit.Float("el")
		default:
			j.TimeToCrash = guestEstimate(it, ev.hostAt(r.Start))
		}
		j.reason = fmt.Sprintf("%s crash report on the console %.2fs after the reproducer started", r.Kind, j.TimeToCrash)
		if r.Corrupted {
			j.reason += " (report corrupted: " + r.CorruptedReason + ")"
		}
		return j
	}
	if it.fail != nil {
		j.Verdict, j.Kind, j.Family = Crash, KindExit, "declared"
		j.Title = numbers.ReplaceAllString(it.fail.Get("title"), "NUM")
		if j.Title == "" {
			j.Title = "reproducer declared failure"
		}
		j.TimeToCrash, j.HostTTC = j.Ran, it.fail.Host-it.start.Host
		j.reason = "the reproducer printed a fail marker"
		return j
	}
	if it.exit != nil {
		return judgeExit(j, it)
	}
	j.Ran = max(j.Ran, 0)
	if ev.PVPanic {
		// The kernel panicked and printed nothing we could read (quiet,
		// a muted or broken console): the pvpanic device told qemu.
		j.Verdict, j.Kind, j.Title, j.Family = Crash, KindKernel, PVPanicTitle, "kernel-panic"
		j.TimeToCrash = j.Ran
		if ev.PVPanicHost > 0 {
			j.HostTTC = ev.PVPanicHost - it.start.Host
			j.TimeToCrash = guestEstimate(it, ev.PVPanicHost)
		}
		j.reason = "qemu's pvpanic device reported a guest panic; the console shows no crash report"
		return j
	}
	if it.start.Get("init") == "seed" && (ev.Stop == StopHang || ev.Stop == StopOverrun) {
		// The seed init has no heartbeat and cannot end the reproducer:
		// crashrig stops the guest at the run's length (the hang timeout).
		j.Verdict, j.Ran = Pass, ev.HangTimeout.Seconds()
		j.reason = fmt.Sprintf("no crash in %v after the seed init's start (the seed init cannot stop the reproducer: crashrig did)", ev.HangTimeout)
		return j
	}
	switch ev.Stop {
	case StopEarly:
		j.Verdict, j.Ran = Stopped, max(j.Ran, ev.StoppedAt)
		j.reason = fmt.Sprintf("stopped after %.1fs of the run, no crash by then: the comparison needed no more", ev.StoppedAt)
	case StopHang:
		j.Verdict, j.Title = Hang, "no heartbeat"
		j.reason = fmt.Sprintf("no heartbeat from the guest for %v (last after %.1fs of the run)", ev.HangTimeout, j.Ran)
	case StopOverrun:
		j.Verdict, j.Title = Hang, "no exit after duration"
		j.reason = "the guest kept beating but the reproducer did not end at its duration"
	case StopCrash, StopDone:
		j.Verdict, j.Title = Hang, "no exit"
		j.reason = "the guest stopped reporting"
	default:
		j.Verdict, j.Kind, j.Title, j.Family = Crash, KindKernel, "unexpected kernel reboot", "kernel-reboot"
		j.TimeToCrash = j.Ran
		// syzbot's title for a reboot with no report, as the console parser gives it
		// when the log shows a second boot.
		j.reason = "qemu ended (guest reset or powered off) while the reproducer ran, with no crash report"
	}
	return j
}

// judgeExit decides an iteration from its exit marker alone.
func judgeExit(j judged, it *iteration) judged {
	el, _ := it.exit.Float("el")
	j.TimeToCrash, j.HostTTC = el, it.exit.Host-it.start.Host
	switch it.exit.Get("how") {
	case "signal":
		sig := it.exit.Get("sig")
		j.Verdict, j.Kind, j.Family, j.Title = Crash, KindSignal, "signal", "killed by "+sig
		j.reason = fmt.Sprintf("the reproducer died of %s after %.2fs without a crash report", sig, el)
	case "exit":
		if st := it.exit.Get("status"); st != "0" {
			j.Verdict, j.Kind, j.Family, j.Title = Crash, KindExit, "exit", "exit status "+st
			j.reason = fmt.Sprintf("the reproducer exited with status %s after %.2fs", st, el)
			return j
		}
		j.Verdict, j.reason, j.TimeToCrash, j.HostTTC = Pass, "the reproducer exited with status 0", 0, 0
	case "duration":
		j.Verdict, j.reason, j.TimeToCrash, j.HostTTC = Pass, "the reproducer ran its whole duration", 0, 0
	default:
		j.Verdict, j.Title = BootFail, "reproducer could not start"
		j.TimeToCrash, j.HostTTC = 0, 0
		j.reason = "the reproducer could not start: " + it.exit.Get("msg")
	}
	return j
}

// guestEstimate converts a host arrival time into guest seconds since the
// iteration started, from the nearest heartbeat before it.
func guestEstimate(it *iteration, host float64) float64 {
	if it.lastBeat != nil && it.lastBeat.Host <= host {
		el, _ := it.lastBeat.Float("el")
		return el + (host - it.lastBeat.Host)
	}
	return max(host-it.start.Host, 0)
}

func (ev Evidence) hostAt(off int64) float64 {
	if ev.ReportHost == nil {
		return ev.CrashHost
	}
	return ev.ReportHost(off)
}

// firstReport is the earliest report that starts in [from, to).
func firstReport(r *console.Result, from, to int64) *console.Report {
	if r == nil {
		return nil
	}
	for _, rep := range r.Reports {
		if rep.Start >= from && rep.Start < to {
			return rep
		}
	}
	return nil
}

// bootFail explains a boot in which the reproducer never started.
func bootFail(ev Evidence, init *Marker) Outcome {
	out := Outcome{Verdict: BootFail, Title: "reproducer never started"}
	_, its := split(ev.Markers)
	wait := ""
	if ev.Stop == StopBootTimeout {
		wait = fmt.Sprintf(" within %v", ev.BootTimeout)
	}
	switch {
	case ev.Console != nil && len(ev.Console.Reports) > 0:
		r := ev.Console.Reports[0]
		out.Kind, out.Title, out.Family, out.Report = string(r.Kind), r.Title, r.Family, r
		out.Reason = "the guest crashed before the reproducer started: " + r.Title
		out.Hint = bootCrashHint(r.Title)
	case ev.PVPanic:
		out.Kind, out.Title, out.Family = KindKernel, PVPanicTitle, "kernel-panic"
		out.Reason = "qemu's pvpanic device reported a guest panic before the reproducer started; the console shows no crash report"
		out.Hint = "boot without quiet and with loglevel=5 or higher to see the panic message"
	case len(its) > 0 && its[0].exit != nil:
		out.Title = "reproducer could not start"
		out.Reason = "the reproducer could not start: " + its[0].exit.Get("msg")
		out.Hint = "check that the reproducer is a static x86-64 program (crashrig refuses dynamic ones)"
	case ev.OutputBytes == 0:
		out.Title = "no console output"
		out.Reason = "no console output at all" + wait
		out.Hint = "the kernel printed nothing on ttyS0: it needs CONFIG_SERIAL_8250=y and CONFIG_SERIAL_8250_CONSOLE=y, and console=ttyS0 on its command line (crashrig doctor -k KERNEL checks the config)"
	case init == nil:
		out.Title = "init never reported"
		out.Reason = fmt.Sprintf("the kernel printed %d bytes but /init never reported%s", ev.OutputBytes, wait)
		out.Hint = "/init's output goes to the last console= on the kernel command line: it must be ttyS0; the kernel also needs CONFIG_BLK_DEV_INITRD, CONFIG_RD_GZIP and CONFIG_DEVTMPFS (crashrig doctor -k KERNEL)"
	default:
		out.Reason = "/init started but the reproducer did not" + wait
	}
	return out
}

func bootCrashHint(title string) string {
	return advise(bootHints, title, "the kernel crashed while booting; see the console log")
}
