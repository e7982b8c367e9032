package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// A Session is one crashrig command that recorded runs: a run loop, a
// comparison, a batch (or one shard of it).
type Session struct {
	ID          int64
	UID         string // random, unique across databases (for merging)
	Kind        string // "run", "compare", "batch"…
	Label       string
	Args        []string // the command line
	Meta        map[string]string
	Started     time.Time
	Ended       time.Time // zero while it goes on
	Interrupted bool      // its process ended without EndSession
	Host        string
}

// BeginSession records the start of a session.
func (db *DB) BeginSession(kind, label string, args []string) (*Session, error) {
	s := &Session{UID: randomHex(16), Kind: kind, Label: label, Args: args, Started: time.Now().UTC(), Host: db.host}
	argsJSON, _ := json.Marshal(nonNil(args))
	res, err := db.sql.Exec(`INSERT INTO sessions (uid, kind, label, args, started, host, pid, owner)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.UID, kind, label, string(argsJSON), fmtTime(s.Started), db.host, os.Getpid(), db.owner.token)
	if err != nil {
		return nil, fmt.Errorf("beginning a %s session: %w", kind, err)
	}
	if s.ID, err = res.LastInsertId(); err != nil {
		return nil, err
	}
	return s, nil
}

// EndSession records the end of a session; ending it again changes nothing.
func (db *DB) EndSession(id int64) error {
	res, err := db.sql.Exec(`UPDATE sessions SET ended = coalesce(ended, ?) WHERE id = ?`, fmtTime(time.Now()), id)
	if err != nil {
		return fmt.Errorf("ending session %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("ending session %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetSessionMeta sets one key of a session's metadata (a plan, a shard
// number, the decision of a comparison…).
func (db *DB) SetSessionMeta(id int64, key, value string) error {
	res, err := db.sql.Exec(`UPDATE sessions SET meta = json_set(meta, '$.' || json_quote(?), ?) WHERE id = ?`, key, value, id)
	if err != nil {
		return fmt.Errorf("session %d metadata: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("session %d metadata: %w", id, ErrNotFound)
	}
	return nil
}

const sessionCols = `id, uid, kind, label, args, meta, started, ended, interrupted, host`

// Session returns one session.
func (db *DB) Session(id int64) (*Session, error) {
	ss, err := db.sessions(`WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("session %d: %w", id, err)
	}
	if len(ss) == 0 {
		return nil, fmt.Errorf("session %d: %w", id, ErrNotFound)
	}
	return &ss[0], nil
}

// LatestSession returns the most recently begun session of a kind ("" =
// any kind).
func (db *DB) LatestSession(kind string) (*Session, error) {
	ss, err := db.sessions(`WHERE ? = '' OR kind = ? ORDER BY id DESC LIMIT 1`, kind, kind)
	if err != nil {
		return nil, fmt.Errorf("latest session: %w", err)
	}
	if len(ss) == 0 {
		if kind == "" {
			return nil, fmt.Errorf("no session recorded yet: %w", ErrNotFound)
		}
		return nil, fmt.Errorf("no %s session recorded yet: %w", kind, ErrNotFound)
	}
	return &ss[0], nil
}

// Sessions returns the most recent sessions, newest first (limit 0 = all).
func (db *DB) Sessions(limit int) ([]Session, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	ss, err := db.sessions(`ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing sessions: %w", err)
	}
	return ss, nil
}

func (db *DB) sessions(where string, args ...any) ([]Session, error) {
	rows, err := db.sql.Query(`SELECT `+sessionCols+` FROM sessions `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var s Session
		var argsJSON, metaJSON string
		var started, ended sql.NullString
		if err := rows.Scan(&s.ID, &s.UID, &s.Kind, &s.Label, &argsJSON, &metaJSON, &started, &ended, &s.Interrupted, &s.Host); err != nil {
			return nil, err
		}
		s.Started, s.Ended = parseTime(started), parseTime(ended)
		if err := errors.Join(unmarshalField("args", argsJSON, &s.Args), unmarshalField("meta", metaJSON, &s.Meta)); err != nil {
			return nil, fmt.Errorf("session %d: %w", s.ID, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func unmarshalField(name, text string, v any) error {
	if text == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return fmt.Errorf("column %s: %w", name, err)
	}
	return nil
}

// nonNil makes a nil slice encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
