// Package record holds what crashrig knows about a run once it has ended:
// the configuration that makes runs comparable (Config) and the run's own
// record (Run: verdict, timings, the qemu command, where the log is).
//
// The runner (package run) produces these, the store keeps them, and the
// report, the statistics drivers and the CLI read them. The package is a
// leaf: it depends only on the verdict and kernel-image descriptions, never
// on qemu, the image builders or the database.
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/crashrig/crashrig/internal/kernel"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A Run is everything known about one finished run: what was booted, how it
// ended (the embedded verdict.Outcome) and where its console log is.
type Run struct {
	verdict.Outcome
	ID          string       `json:"id"`
	Start       time.Time    `json:"start"`
	Wall        float64      `json:"wall_s"` // host seconds from qemu start to its end
	Accel       string       `json:"accel"`  // "kvm" or "tcg,thread=multi"…
	AccelNote   string       `json:"accel_note,omitempty"`
	Kernel      kernel.Image `json:"kernel"`
	Reproducer  string       `json:"reproducer"`
	ReproArgs   []string     `json:"reproducer_args,omitempty"`
	Duration    float64      `json:"duration_s"`
	SMP         int          `json:"smp"`
	Memory      int          `json:"memory_mib"`
	Cmdline     string       `json:"cmdline"`
	Initramfs   string       `json:"initramfs"`
	InitramfsID string       `json:"initramfs_sha256"`
	QemuArgv    []string     `json:"qemu_argv"`
	QemuShell   string       `json:"qemu_command"`
	QemuVersion string       `json:"qemu_version,omitempty"`
	QemuExit    int          `json:"qemu_exit"`
	QemuStderr  string       `json:"qemu_stderr,omitempty"`
	Log         string       `json:"log"`
	LogBytes    int64        `json:"log_bytes"`
	LogCapped   bool         `json:"log_capped,omitempty"`
	Info        []InfoItem   `json:"info,omitempty"` // measurements the reproducer reported
	Host        string       `json:"host"`
	Secondary   []string     `json:"secondary_titles,omitempty"`
	Text        string       `json:"report,omitempty"`
	Env         []string     `json:"env,omitempty"`
	Timeline    Timeline     `json:"timeline"`
	Snapshot    string       `json:"snapshot,omitempty"` // how a run asked to start from a saved state started ("" = not asked)
}

// An InfoItem is one key=value a reproducer reported with an info marker.
type InfoItem struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Timeline holds host-clock instants of the run, in seconds since qemu
// started (0 = did not happen).
type Timeline struct {
	Init       float64 `json:"init_s,omitempty"`
	Start      float64 `json:"start_s,omitempty"`
	CrashLine  float64 `json:"crash_line_s,omitempty"`
	Decided    float64 `json:"decided_s,omitempty"` // when crashrig knew the verdict
	QemuExited float64 `json:"qemu_exited_s,omitempty"`
}

// A Config is everything that makes two runs comparable, plus the names the
// user gave its parts. Runs with equal Hash may be pooled by the statistics.
type Config struct {
	KernelSHA256  string   // content hash of the kernel image
	KernelPath    string   // where the image was (not compared)
	KernelVersion string   // the image header's version string (follows from the hash; not compared)
	KernelLabel   string   // the user's name for the kernel (not compared)
	Reproducer    string   // a built-in's name or the program's base name
	ReproArgs     []string // its arguments
	ReproHash     string   // content hash of the reproducer program ("" = not known)
	SMP           int      // vCPUs
	Memory        int      // guest RAM in MiB
	Cmdline       string   // the kernel command line as booted
	Accel         string   // as asked: "auto", "kvm" or "tcg" (the run records what was used)
	QemuVersion   string   // qemu's version line
	Env           []string // K=V for the reproducer (order not compared)
	Duration      float64  // seconds per iteration (0 = until the reproducer exits)
	Iterations    int      // reproducer runs per boot
	Variant       string   // which side of a comparison, e.g. "A" (not compared)
}

// configKey is what Config.Hash covers. Its JSON names are part of the
// hash: never rename them; a new field must be omitempty so that the hashes
// of existing configurations stay the same.
type configKey struct {
	Kernel      string   `json:"kernel"`
	KernelPath  string   `json:"kernel_path,omitempty"` // only when the hash is unknown
	Reproducer  string   `json:"reproducer"`
	ReproArgs   []string `json:"reproducer_args,omitempty"`
	ReproHash   string   `json:"reproducer_sha256,omitempty"`
	SMP         int      `json:"smp"`
	Memory      int      `json:"memory_mib"`
	Cmdline     string   `json:"cmdline"`
	Accel       string   `json:"accel"`
	QemuVersion string   `json:"qemu_version"`
	Env         []string `json:"env,omitempty"`
	Duration    float64  `json:"duration_s"`
	Iterations  int      `json:"iterations"`
}

func (c Config) key() configKey {
	k := configKey{Kernel: c.KernelSHA256, Reproducer: c.Reproducer, ReproArgs: c.ReproArgs, ReproHash: c.ReproHash,
		SMP: c.SMP, Memory: c.Memory, Cmdline: c.Cmdline, Accel: c.Accel, QemuVersion: c.QemuVersion,
		Env: slices.Sorted(slices.Values(c.Env)), Duration: c.Duration, Iterations: c.Iterations}
	if c.KernelSHA256 == "" {
		k.KernelPath = c.KernelPath // better than calling every unhashed kernel the same
	}
	if len(k.ReproArgs) == 0 {
		k.ReproArgs = nil
	}
	return k
}

// Hash is a stable hash (64 hex digits) of the fields that make runs
// comparable: everything except KernelPath, KernelVersion, KernelLabel and
// Variant. KernelPath counts only when KernelSHA256 is empty.
func (c Config) Hash() string {
	b, _ := json.Marshal(c.key()) // fails only for a NaN or infinite Duration
	sum := sha256.Sum256(append([]byte("crashrig config v1\n"), b...))
	return hex.EncodeToString(sum[:])
}
