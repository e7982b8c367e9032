package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/crashrig/crashrig/internal/record"
)

// saveConfig inserts the kernel, reproducer and configuration rows of c if
// they are new and returns the configuration's id.
func saveConfig(ctx context.Context, tx *sql.Tx, c record.Config, hash string, now time.Time) (int64, error) {
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
	kernelPath := "" // part of the hash only when the kernel's content hash is unknown
	if c.KernelSHA256 == "" {
		kernelPath = c.KernelPath
	}
	args, _ := json.Marshal(nonNil(c.ReproArgs))
	env, _ := json.Marshal(nonNil(c.Env))
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO configs (hash, kernel_id, repro_id, kernel_path, repro_args, smp, memory_mib,
			cmdline, accel, qemu_version, env, duration_s, iterations, added)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash
		RETURNING id`, hash, kernelID, reproID, kernelPath, string(args), c.SMP, c.Memory,
		c.Cmdline, c.Accel, c.QemuVersion, string(env), c.Duration, c.Iterations, fmtTime(now)).Scan(&id)
	return id, err
}
