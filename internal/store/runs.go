package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/crashrig/crashrig/internal/record"
)

// ErrFinished is returned by FinishRun for a run already recorded: a run is
// counted once.
var ErrFinished = errors.New("run already finished")

// StartRun records that a run of c begins in a session (0 = none) and
// returns its id, the number users type (crashrig log 42). The run stays
// 'running' until FinishRun or MarkInterrupted, or until the next Open
// after this handle's process is gone.
func (db *DB) StartRun(sessionID int64, c record.Config) (int64, error) {
	ctx := context.Background()
	now := time.Now()
	hash := c.Hash()
	var session sql.NullInt64
	if sessionID != 0 {
		session = sql.NullInt64{Int64: sessionID, Valid: true}
	}
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		cid, err := saveConfig(ctx, tx, c, hash, now)
		if err != nil {
			return fmt.Errorf("saving its configuration: %w", err)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO runs (uid, session_id, config_id, kernel_path, kernel_label, variant,
				status, started, host, pid, owner)
			VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)
			RETURNING id`, randomHex(16), session, cid, c.KernelPath, c.KernelLabel, c.Variant,
			fmtTime(now), db.host, os.Getpid(), db.owner.token).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("recording a run start: %w", err)
	}
	return id, nil
}

// FinishRun records the result of a run in one transaction: the run row
// with its verdict, one row per iteration, the console log read from the
// file r.Log (gzip-compressed, at most LogCap raw bytes: head and tail),
// and r itself as JSON. The log is read and compressed before the
// transaction begins, so other writers wait only for the inserts.
//
// A missing log file is recorded as such, not an error: the verdict is
// worth more than its evidence. Finishing a run twice is ErrFinished.
func (db *DB) FinishRun(runID int64, r *record.Run) error {
	if r == nil {
		return fmt.Errorf("finishing run %d: no result", runID)
	}
	ctx := context.Background()
	lg := captureLog(r.Log, db.logCap(), r.LogBytes, r.LogCapped)
	result, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("finishing run %d: encoding its result: %w", runID, err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, runID).Scan(&status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case status == "done":
			return ErrFinished
		}
		if err := finishRow(ctx, tx, runID, r, result); err != nil {
			return err
		}
		if err := insertIterations(ctx, tx, runID, r); err != nil {
			return err
		}
		return lg.insert(ctx, tx, runID)
	})
	if err != nil {
		return fmt.Errorf("finishing run %d: %w", runID, err)
	}
	return nil
}

func finishRow(ctx context.Context, tx *sql.Tx, runID int64, r *record.Run, result []byte) error {
	_, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'done', result_id = ?, verdict = ?, kind = ?, title = ?,
			family = ?, reason = ?, time_to_crash_s = ?, boot_s = ?, wall_s = ?, accel = ?,
			started = coalesce(?, started), finished = ?, host = coalesce(nullif(?, ''), host), result = ?
		WHERE id = ?`,
		r.ID, string(r.Verdict), r.Kind, r.Title, r.Family, r.Reason, r.TimeToCrash, r.BootHost, r.Wall, r.Accel,
		fmtTime(r.Start), fmtTime(time.Now()), r.Host, string(result), runID)
	return err
}

func insertIterations(ctx context.Context, tx *sql.Tx, runID int64, r *record.Run) error {
	if len(r.Iterations) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO iterations (run_id, idx, verdict, kind, title, family,
		time_to_crash_s, host_time_to_crash_s, ran_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, it := range r.Iterations {
		_, err := st.ExecContext(ctx, runID, it.Index, string(it.Verdict), it.Kind, it.Title, it.Family,
			it.TimeToCrash, it.HostTTC, it.Ran)
		if err != nil {
			return fmt.Errorf("iteration %d: %w", it.Index, err)
		}
	}
	return nil
}

// MarkInterrupted records that a run will not finish (its VM was stopped,
// or crashrig could not do its job). A run already finished or interrupted
// is left as it is.
func (db *DB) MarkInterrupted(runID int64) error {
	var status string
	err := db.sql.QueryRow(`UPDATE runs SET status = 'interrupted', verdict = 'interrupted',
			reason = coalesce(nullif(reason, ''), 'interrupted before the run ended')
		WHERE id = ? AND status = 'running' RETURNING status`, runID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		if err = db.sql.QueryRow(`SELECT status FROM runs WHERE id = ?`, runID).Scan(&status); errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("marking run %d interrupted: %w", runID, err)
	}
	return nil
}

func (db *DB) logCap() int64 {
	if db.LogCap > 0 {
		return db.LogCap
	}
	return DefaultLogCap
}
