package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MergeStats says what a Merge added.
type MergeStats struct {
	Sessions, Runs int // rows new to the destination
	Seen           int // runs it held already (merged before)
}

// ErrMergeConflict is returned when a source's batches ran another plan
// than the destination's batches of the same name and tag.
var ErrMergeConflict = errors.New("conflicting plans")

// Merge copies into db the sessions, runs, iterations and console logs of
// the database at src that db does not hold yet, matched by their uid
// columns (kernels by sha256, configurations by hash), so that merging a
// database twice adds nothing the second time. It refuses, changing
// nothing, a source that is still being written (runs 'running' under a
// live writer) and one whose batch sessions ran another plan (another
// hash) than db's sessions of the same plan name and tag.
func (db *DB) Merge(src string) (MergeStats, error) {
	var st MergeStats
	abs, err := filepath.Abs(src)
	if err != nil {
		return st, err
	}
	if abs == db.path {
		return st, fmt.Errorf("merging %s into itself", src)
	}
	if _, err := os.Stat(abs); err != nil {
		return st, fmt.Errorf("merging %s: %w", src, err)
	}
	// Opening the source marks interrupted the runs of its dead writers.
	s, err := Open(abs)
	if err != nil {
		return st, fmt.Errorf("merging %s: %w", src, err)
	}
	var live int
	err = s.sql.QueryRow(`SELECT count(*) FROM runs WHERE status = 'running'`).Scan(&live)
	s.Close()
	if err != nil {
		return st, fmt.Errorf("merging %s: %w", src, err)
	}
	if live > 0 {
		return st, fmt.Errorf("merging %s: %d runs are still running in it: merge after its crashrig ends", src, live)
	}
	ctx := context.Background()
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS src`, "file:"+abs+"?mode=ro"); err != nil {
		return st, fmt.Errorf("merging %s: %w", src, err)
	}
	defer conn.ExecContext(ctx, `DETACH DATABASE src`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	if err := checkPlans(ctx, tx, src); err != nil {
		return st, err
	}
	if err := mergeRows(ctx, tx, &st); err != nil {
		return st, fmt.Errorf("merging %s: %w", src, err)
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("merging %s: %w", src, err)
	}
	return st, nil
}

// checkPlans refuses a source whose batch of a plan name and tag ran
// another plan hash than the destination's batches of that name and tag.
func checkPlans(ctx context.Context, tx *sql.Tx, src string) error {
	var name, tag, theirs, ours string
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT s.meta->>'plan', coalesce(s.meta->>'tag', ''), s.meta->>'plan_hash', m.meta->>'plan_hash', m.id
		FROM src.sessions s JOIN main.sessions m
		  ON m.kind = 'batch' AND m.meta->>'plan' = s.meta->>'plan' AND coalesce(m.meta->>'tag', '') = coalesce(s.meta->>'tag', '')
		  AND m.meta->>'shards' = s.meta->>'shards'
		WHERE s.kind = 'batch' AND m.meta->>'plan_hash' != s.meta->>'plan_hash' AND m.uid != s.uid
		LIMIT 1`).Scan(&name, &tag, &theirs, &ours, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("merging %s: comparing plans: %w", src, err)
	}
	return fmt.Errorf("merging %s: %w: its batch of plan %q (tag %q) ran plan hash %s, session %d here ran %s: the shards ran different plan files; merge them into separate databases, or give each plan its own --tag",
		src, ErrMergeConflict, name, tag, theirs, id, ours)
}

// mergeSQL copies what is missing, table by table, keyed by natural keys.
var mergeSQL = []string{
	`INSERT INTO main.kernels (sha256, version, path, label, added)
		SELECT sha256, version, path, label, added FROM src.kernels WHERE true ON CONFLICT (sha256) DO NOTHING`,
	`INSERT INTO main.reproducers (name, hash, added)
		SELECT name, hash, added FROM src.reproducers WHERE true ON CONFLICT (name, hash) DO NOTHING`,
	`INSERT INTO main.configs (hash, kernel_id, repro_id, kernel_path, repro_args, smp, memory_mib, cmdline, accel,
			qemu_version, env, duration_s, iterations, added)
		SELECT c.hash, mk.id, mr.id, c.kernel_path, c.repro_args, c.smp, c.memory_mib, c.cmdline, c.accel,
			c.qemu_version, c.env, c.duration_s, c.iterations, c.added
		FROM src.configs c
		JOIN src.reproducers sr ON sr.id = c.repro_id
		JOIN main.reproducers mr ON mr.name = sr.name AND mr.hash = sr.hash
		LEFT JOIN src.kernels sk ON sk.id = c.kernel_id
		LEFT JOIN main.kernels mk ON mk.sha256 = sk.sha256
		WHERE true ON CONFLICT (hash) DO NOTHING`,
}

func mergeRows(ctx context.Context, tx *sql.Tx, st *MergeStats) error {
	for _, q := range mergeSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// Merged sessions have no writer here: owner '' (Open never waits for one).
	res, err := tx.ExecContext(ctx, `INSERT INTO main.sessions (uid, kind, label, args, meta, started, ended, interrupted, host, pid, owner)
		SELECT uid, kind, label, args, meta, started, coalesce(ended, started), interrupted, host, pid, ''
		FROM src.sessions WHERE uid NOT IN (SELECT uid FROM main.sessions) ORDER BY id`)
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	st.Sessions = int(n)
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM src.runs WHERE uid IN (SELECT uid FROM main.runs)`).Scan(&st.Seen); err != nil {
		return err
	}
	res, err = tx.ExecContext(ctx, `INSERT INTO main.runs (uid, result_id, session_id, config_id, kernel_path, kernel_label, variant,
			status, verdict, kind, title, family, reason, time_to_crash_s, boot_s, wall_s, accel, started, finished,
			host, pid, owner, result)
		SELECT r.uid, r.result_id, ms.id, mc.id, r.kernel_path, r.kernel_label, r.variant,
			r.status, r.verdict, r.kind, r.title, r.family, r.reason, r.time_to_crash_s, r.boot_s, r.wall_s, r.accel, r.started, r.finished,
			r.host, r.pid, '', r.result
		FROM src.runs r
		JOIN src.configs sc ON sc.id = r.config_id
		JOIN main.configs mc ON mc.hash = sc.hash
		LEFT JOIN src.sessions ss ON ss.id = r.session_id
		LEFT JOIN main.sessions ms ON ms.uid = ss.uid
		WHERE r.uid NOT IN (SELECT uid FROM main.runs)
		ORDER BY r.id`)
	if err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	n, _ = res.RowsAffected()
	st.Runs = int(n)
	if _, err := tx.ExecContext(ctx, `INSERT INTO main.iterations (run_id, idx, verdict, kind, title, family, time_to_crash_s, host_time_to_crash_s, ran_s)
		SELECT mr.id, i.idx, i.verdict, i.kind, i.title, i.family, i.time_to_crash_s, i.host_time_to_crash_s, i.ran_s
		FROM src.iterations i JOIN src.runs sr ON sr.id = i.run_id JOIN main.runs mr ON mr.uid = sr.uid
		WHERE true ON CONFLICT (run_id, idx) DO NOTHING`); err != nil {
		return fmt.Errorf("iterations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO main.logs (run_id, codec, data, raw_bytes, kept_bytes, cap_bytes, capped, path, error)
		SELECT mr.id, l.codec, l.data, l.raw_bytes, l.kept_bytes, l.cap_bytes, l.capped, l.path, l.error
		FROM src.logs l JOIN src.runs sr ON sr.id = l.run_id JOIN main.runs mr ON mr.uid = sr.uid
		WHERE true ON CONFLICT (run_id) DO NOTHING`); err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	return nil
}
