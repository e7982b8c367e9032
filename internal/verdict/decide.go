package verdict

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/console"
	"github.com/crashrig/crashrig/reproducer/marker"
)

// A Marker is a guest marker with the host time it arrived, in seconds
// since qemu started.
type Marker struct {
	marker.Event
	Host float64
}

// Evidence is everything a boot left behind.
type Evidence struct {
	Markers     []Marker
	Console     *console.Result
	CrashHost   float64 // host seconds when the first crash line arrived (0 = none)
	ReportHost  func(offset int64) float64
	QemuCode    int    // qemu's exit status (-1 when killed by a signal)
	QemuSignal  string // signal that ended qemu
	QemuStderr  string
	Stop        Stop          // why crashrig stopped the VM
	HangTimeout time.Duration // as configured, for the reason text
	BootTimeout time.Duration
	OutputBytes int64
	Iterations  int     // iterations asked for
	KVM         bool    // the guest ran under KVM
	KVMBroken   string  // non-empty when a KVM probe found KVM unusable
	StoppedAt   float64 // with StopEarly: the reproducer seconds after which the caller stopped the run
	// PVPanic says qemu's pvpanic device reported a guest panic (QMP's
	// GUEST_PANICKED), whatever the console shows; PVPanicHost is when, in
	// host seconds since qemu started (0 = unknown, as offline).
	PVPanic     bool
	PVPanicHost float64
}

// An Iteration is the outcome of one run of the reproducer within a boot.
type Iteration struct {
	Index       int     `json:"index"`
	Verdict     Verdict `json:"verdict"`
	Kind        string  `json:"kind,omitempty"`
	Title       string  `json:"title,omitempty"`
	Family      string  `json:"family,omitempty"`
	TimeToCrash float64 `json:"time_to_crash_s,omitempty"` // guest seconds from start to crash; for passes the time it ran
	HostTTC     float64 `json:"host_time_to_crash_s,omitempty"`
	Ran         float64 `json:"ran_s"` // seconds the reproducer ran (guest clock)
}

// An Outcome is the decision for a whole boot.
type Outcome struct {
	Verdict     Verdict     `json:"verdict"`
	Kind        string      `json:"kind,omitempty"`
	Title       string      `json:"title,omitempty"`
	Family      string      `json:"family,omitempty"`
	Corrupted   bool        `json:"corrupted,omitempty"`
	Reason      string      `json:"reason,omitempty"` // one line: the evidence for the verdict
	Hint        string      `json:"hint,omitempty"`   // what to try, for boot and infra failures
	TimeToCrash float64     `json:"time_to_crash_s,omitempty"`
	HostTTC     float64     `json:"host_time_to_crash_s,omitempty"`
	BootGuest   float64     `json:"boot_guest_s,omitempty"` // guest uptime when /init started
	BootHost    float64     `json:"boot_s,omitempty"`       // host seconds from qemu start to the init marker
	Iterations  []Iteration `json:"iterations,omitempty"`
	// Signals name what saw a kernel crash: "console" (a report was
	// printed), "pvpanic" (qemu's pvpanic device reported a panic).
	Signals []string        `json:"signals,omitempty"`
	Report  *console.Report `json:"-"`
}

// iteration collects the markers of one reproducer run.
type iteration struct {
	start, exit *Marker
	beats       int
	fail        *Marker
	lastBeat    *Marker
	end         int64 // log offset where the next iteration starts (or max)
}

// Decide turns evidence into an outcome.
func Decide(ev Evidence) Outcome {
	var out Outcome
	init, its := split(ev.Markers)
	if init != nil {
		out.BootHost = init.Host
		out.BootGuest, _ = init.Float("up")
	}
	if ev.Stop == StopInterrupted {
		out.Verdict, out.Reason = Interrupted, "interrupted before the run ended"
		out.Iterations = finished(its)
		return out
	}
	if v, ok := infra(ev, init); ok {
		return merge(out, v)
	}
	if len(its) == 0 || its[0].start == nil {
		bf := bootFail(ev, init)
		bf.Signals = signals(ev, bf)
		return merge(out, bf)
	}
	for i, it := range its {
		iv := judge(ev, it, i)
		out.Iterations = append(out.Iterations, iv.Iteration)
		if iv.Verdict != Pass && iv.Verdict != Stopped && out.Verdict == "" {
			out.Verdict, out.Kind, out.Title, out.Family = iv.Verdict, iv.Kind, iv.Title, iv.Family
			out.TimeToCrash, out.HostTTC, out.Reason = iv.TimeToCrash, iv.HostTTC, iv.reason
			out.Report, out.Corrupted = iv.report, iv.report != nil && iv.report.Corrupted
		}
	}
	if last := out.Iterations[len(out.Iterations)-1]; out.Verdict == "" && last.Verdict == Stopped {
		out.Verdict, out.Reason = Stopped, fmt.Sprintf("stopped after %.1fs of the run, no crash by then: the comparison needed no more", last.Ran)
	}
	out.Signals = signals(ev, out)
	if out.Verdict == "" {
		out.Verdict = Pass
		out.Reason = fmt.Sprintf("%d iteration(s) ran to the end without a crash", len(its))
		if n := len(its); n < ev.Iterations {
			out.Verdict = Hang
			out.Reason = fmt.Sprintf("only %d of %d iterations ran", n, ev.Iterations)
		}
	}
	return out
}

// signals lists what saw the crash of a kernel-crash outcome.
func signals(ev Evidence, out Outcome) []string {
	if out.Kind != KindKernel {
		return nil
	}
	var s []string
	if out.Report != nil {
		s = append(s, "console")
	}
	if ev.PVPanic {
		s = append(s, "pvpanic")
	}
	return s
}

func merge(base, v Outcome) Outcome {
	v.BootHost, v.BootGuest = base.BootHost, base.BootGuest
	return v
}

// split groups markers by iteration.
func split(ms []Marker) (init *Marker, its []*iteration) {
	var cur *iteration
	for i := range ms {
		m := &ms[i]
		switch m.Name {
		case marker.Init:
			if init == nil {
				init = m
			}
		case marker.Start:
			cur = &iteration{start: m, end: 1<<63 - 1}
			if len(its) > 0 {
				its[len(its)-1].end = m.Offset
			}
			its = append(its, cur)
		case marker.Beat:
			if cur != nil {
				cur.beats++
				cur.lastBeat = m
			}
		case marker.Fail:
			if cur != nil && cur.fail == nil {
				cur.fail = m
			}
		case marker.Exit:
			if cur == nil { // the reproducer could not even start
				cur = &iteration{end: 1<<63 - 1}
				its = append(its, cur)
			}
			if cur.exit == nil {
				cur.exit = m
			}
		}
	}
	return init, its
}

func finished(its []*iteration) []Iteration {
	var out []Iteration
	for i, it := range its {
		if it.exit != nil && it.exit.Get("how") == "duration" || it.exit != nil && it.exit.Get("status") == "0" {
			el, _ := it.exit.Float("el")
			out = append(out, Iteration{Index: i, Verdict: Pass, Ran: el})
		}
	}
	return out
}

// infra recognises host-side failures: qemu refusing its input or dying of
// something other than the guest.
func infra(ev Evidence, init *Marker) (Outcome, bool) {
	stderr := strings.TrimSpace(ev.QemuStderr)
	first := stderr
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	kvmFault := ""
	if m := kvmFaultRe.FindString(stderr); m != "" {
		kvmFault = strings.TrimSpace(m)
	}
	switch {
	case kvmFault != "" && init == nil && !hasCrash(ev):
		// qemu's own words come first: an abort on a KVM error is qemu giving up on
		// the host, not something killing it from outside.
		return Outcome{Verdict: InfraFail, Reason: "KVM cannot run this guest: " + kvmFault,
			Hint: "use --accel tcg (or --accel auto, which falls back by itself)"}, true
	case ev.Stop == StopNone && ev.QemuCode > 0:
		return Outcome{Verdict: InfraFail, Reason: fmt.Sprintf("qemu exited with status %d: %s", ev.QemuCode, orNone(first)),
			Hint: infraHint(stderr)}, true
	case ev.Stop == StopNone && ev.QemuSignal != "" && !hasCrash(ev):
		return Outcome{Verdict: InfraFail, Reason: fmt.Sprintf("qemu was killed from outside crashrig (signal: %s): %s", ev.QemuSignal, orNone(first)),
			Hint: "look for the host's OOM killer (dmesg) or another process killing qemu"}, true
	case ev.KVM && ev.KVMBroken != "" && init == nil && !hasCrash(ev):
		return Outcome{Verdict: InfraFail, Reason: "KVM cannot run this guest: " + ev.KVMBroken,
			Hint: "use --accel tcg (or --accel auto, which falls back by itself)"}, true
	case strings.Contains(stderr, "KVM internal error") || strings.Contains(stderr, "emulation failure"):
		return Outcome{Verdict: InfraFail, Reason: "qemu: " + first, Hint: "KVM cannot emulate this guest here: use --accel tcg"}, true
	}
	return Outcome{}, false
}

// kvmFaultRe finds qemu's line saying that KVM failed under the guest.
var kvmFaultRe = regexp.MustCompile(`(?m)^.*(failed to set MSR|KVM internal error|emulation failure|kvm run failed).*$`)

// A hint is advice for output that contains any of its words.
type hint struct {
	words  []string
	advice string
}

// infraHints advise on qemu's own error messages.
var infraHints = []hint{
	{[]string{"could not open kernel file"}, "check the -k path"},
	{[]string{"linux kernel too old", "kernel too old"}, "the -k file is not a bootable x86 kernel image (arch/x86/boot/bzImage)"},
	{[]string{"KVM", "kvm"}, "KVM is unusable here: use --accel tcg or --accel auto"},
	{[]string{"cannot set up guest memory", "Cannot allocate memory"}, "the host is out of memory: lower -m or -j"},
}

// bootHints advise on the title of a crash before the reproducer started.
var bootHints = []hint{
	{[]string{"Unable to mount root fs"}, "the kernel could not unpack the initramfs: it needs CONFIG_BLK_DEV_INITRD and CONFIG_RD_GZIP (crashrig doctor -k KERNEL)"},
	{[]string{"No working init", "Attempted to kill init"}, "/init could not run or died: the kernel needs CONFIG_BINFMT_ELF, CONFIG_DEVTMPFS and CONFIG_PROC_FS; see the console log"},
	{[]string{"deadlocked on memory", "Out of memory"}, "the guest has too little memory: raise -m"},
}

// advise returns the first hint whose words occur in text, or fallback.
func advise(hints []hint, text, fallback string) string {
	for _, h := range hints {
		for _, w := range h.words {
			if strings.Contains(text, w) {
				return h.advice
			}
		}
	}
	return fallback
}

func infraHint(stderr string) string {
	return advise(infraHints, stderr, "run the stored qemu command line by hand to see the whole message")
}

func orNone(s string) string {
	if s == "" {
		return "(no message)"
	}
	return s
}

func hasCrash(ev Evidence) bool { return ev.Console != nil && len(ev.Console.Reports) > 0 }
