package store

import (
	"fmt"
	"os"
	"strings"
)

// ReopenSession makes this handle the writer of an ended or interrupted
// session, so that a resumed batch adds its runs to the same session. Runs
// the session holds keep their status: interrupted ones stay interrupted.
func (db *DB) ReopenSession(id int64) error {
	res, err := db.sql.Exec(`UPDATE sessions SET ended = NULL, interrupted = 0, host = ?, pid = ?, owner = ? WHERE id = ?`,
		db.host, os.Getpid(), db.owner.token, id)
	if err != nil {
		return fmt.Errorf("reopening session %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("reopening session %d: %w", id, ErrNotFound)
	}
	return nil
}

// LogUsage sums the console logs stored for the runs of some sessions:
// raw bytes the runs produced, bytes kept, and how many logs lost bytes.
type LogUsage struct {
	Raw, Kept int64
	Logs      int
	Trimmed   int
}

// Logs returns the log usage of the sessions.
func (db *DB) Logs(sessions []int64) (LogUsage, error) {
	var u LogUsage
	if len(sessions) == 0 {
		return u, nil
	}
	args := make([]any, len(sessions))
	for i, s := range sessions {
		args[i] = s
	}
	q := `SELECT count(*), coalesce(sum(l.raw_bytes), 0), coalesce(sum(l.kept_bytes), 0), coalesce(sum(l.capped), 0)
		FROM logs l JOIN runs r ON r.id = l.run_id WHERE r.session_id IN (?` + strings.Repeat(", ?", len(sessions)-1) + `)`
	if err := db.sql.QueryRow(q, args...).Scan(&u.Logs, &u.Raw, &u.Kept, &u.Trimmed); err != nil {
		return u, fmt.Errorf("log usage: %w", err)
	}
	return u, nil
}
