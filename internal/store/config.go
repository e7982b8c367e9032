package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"
)

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

// saveConfig inserts the kernel, reproducer and configuration rows of c if
// they are new and returns the configuration's id.
func saveConfig(ctx context.Context, tx *sql.Tx, c Config, hash string, now time.Time) (int64, error) {
	var kernelID sql.NullInt64
	if c.KernelSHA256 != "" {
		err := tx.QueryRowContext(ctx, `INSERT INTO kernels (sha256, version, path, label, added) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (sha256) DO UPDATE SET
				version = CASE WHEN excluded.version != '' THEN excluded.version ELSE version END,
				path = CASE WHEN excluded.path != '' THEN excluded.path ELSE path END,
				label = CASE WHEN excluded.label != '' THEN excluded.label ELSE label END
			RETURNING id`, c.KernelSHA256, c.KernelVersion, c.KernelPath, c.KernelLabel, fmtTime(now)).Scan(&kernelID)
		if err != nil {
			return 0, err
		}
	}
	var reproID int64
	err := tx.QueryRowContext(ctx, `INSERT INTO reproducers (name, hash, added) VALUES (?, ?, ?)
		ON CONFLICT (name, hash) DO UPDATE SET name = excluded.name
		RETURNING id`, c.Reproducer, c.ReproHash, fmtTime(now)).Scan(&reproID)
	if err != nil {
		return 0, err
	}
	k := c.key()
	args, _ := json.Marshal(nonNil(c.ReproArgs))
	env, _ := json.Marshal(nonNil(c.Env))
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO configs (hash, kernel_id, repro_id, kernel_path, repro_args, smp, memory_mib,
			cmdline, accel, qemu_version, env, duration_s, iterations, added)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash
		RETURNING id`, hash, kernelID, reproID, k.KernelPath, string(args), c.SMP, c.Memory,
		c.Cmdline, c.Accel, c.QemuVersion, string(env), c.Duration, c.Iterations, fmtTime(now)).Scan(&id)
	return id, err
}
