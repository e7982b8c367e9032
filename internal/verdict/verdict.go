// Package verdict decides how a run ended from the evidence a boot leaves:
// the guest's markers with their host arrival times, the crash reports
// found on the console, how qemu ended and why crashrig stopped it.
//
// Decide is a pure function: the same evidence always gives the same
// Outcome, so every rule is table-tested without a VM. Crashes, hangs and
// boot failures are outcomes, not errors; a host-side fault is infra-fail
// and never a crash.
package verdict

// A Verdict is how one run ended.
type Verdict string

// The verdicts of DESIGN.md, interrupted for runs cut short by the user
// (never counted by the statistics), and stopped for runs a comparison ended
// because it needed no more of them: censored observations, not passes.
const (
	Pass        Verdict = "pass"
	Stopped     Verdict = "stopped"
	Crash       Verdict = "crash"
	Hang        Verdict = "hang"
	BootFail    Verdict = "boot-fail"
	InfraFail   Verdict = "infra-fail"
	Interrupted Verdict = "interrupted"
)

// ExitCode is the exit status crashrig run uses for v.
func (v Verdict) ExitCode() int {
	switch v {
	case Pass, Stopped:
		return 0
	case Crash:
		return 1
	case Hang:
		return 3
	case BootFail:
		return 4
	case InfraFail:
		return 5
	case Interrupted:
		return 130
	}
	return 5
}

// Kinds of crash.
const (
	KindKernel = "kernel" // the kernel printed an oops, panic, BUG, WARNING…
	KindGo     = "go"     // a Go runtime crash report
	KindSignal = "signal" // the reproducer died of a signal with no report
	KindExit   = "exit"   // the reproducer exited non-zero or declared failure
)

// Stop says why crashrig ended the VM, if it did.
type Stop string

const (
	StopNone        Stop = ""             // qemu ended by itself
	StopDone        Stop = "done"         // the guest finished but did not power off in time
	StopCrash       Stop = "crash"        // a crash was seen and its grace ran out
	StopHang        Stop = "hang"         // no heartbeat for the hang timeout
	StopOverrun     Stop = "overrun"      // no exit long after the duration
	StopBootTimeout Stop = "boot-timeout" // the reproducer did not start in time
	StopInterrupted Stop = "interrupted"  // the user or the caller cancelled
	StopEarly       Stop = "early"        // the caller no longer needed the run past Evidence.StoppedAt
	StopHostFault   Stop = "host-fault"   // qemu reported a host fault (KVM internal error) and stalled
)
