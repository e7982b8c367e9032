package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNewerSchema is returned by Open for a database written by a newer
// crashrig: its schema version is past the last migration known here.
var ErrNewerSchema = errors.New("database schema is newer than this crashrig")

// A migration brings the schema from version-1 to version. The schema
// version is SQLite's user_version, set in the same transaction as the
// migration, so a migration is applied entirely or not at all.
type migration struct {
	version int
	name    string
	up      func(ctx context.Context, tx *sql.Tx) error
}

// migrations is the schema's history; append, never edit a shipped one.
var migrations = []migration{
	{1, "initial schema", execAll(schemaV1...)},
}

// SchemaVersion is the schema version this crashrig writes.
var SchemaVersion = migrations[len(migrations)-1].version

// schemaV1 is the first schema. Times are UTC text in timeFormat; durations
// are seconds; lists and maps are JSON text.
var schemaV1 = []string{
	// One row per distinct kernel image, keyed by its content.
	`CREATE TABLE kernels (
		id      INTEGER PRIMARY KEY,
		sha256  TEXT NOT NULL UNIQUE,
		version TEXT NOT NULL DEFAULT '', -- the bzImage header's version string
		path    TEXT NOT NULL DEFAULT '', -- where it was last seen
		label   TEXT NOT NULL DEFAULT '', -- the last label a user gave it
		added   TEXT NOT NULL
	)`,
	// One row per reproducer identity: its name and content hash.
	`CREATE TABLE reproducers (
		id    INTEGER PRIMARY KEY,
		name  TEXT NOT NULL,
		hash  TEXT NOT NULL DEFAULT '',
		added TEXT NOT NULL,
		UNIQUE (name, hash)
	)`,
	// Everything that makes two runs comparable, keyed by Config.Hash.
	`CREATE TABLE configs (
		id           INTEGER PRIMARY KEY,
		hash         TEXT NOT NULL UNIQUE,
		kernel_id    INTEGER REFERENCES kernels(id),
		repro_id     INTEGER NOT NULL REFERENCES reproducers(id),
		kernel_path  TEXT NOT NULL DEFAULT '', -- part of the hash only when the sha256 is unknown
		repro_args   TEXT NOT NULL DEFAULT '[]',
		smp          INTEGER NOT NULL,
		memory_mib   INTEGER NOT NULL,
		cmdline      TEXT NOT NULL,
		accel        TEXT NOT NULL,       -- as asked: auto, kvm, tcg
		qemu_version TEXT NOT NULL,
		env          TEXT NOT NULL DEFAULT '[]',
		duration_s   REAL NOT NULL,
		iterations   INTEGER NOT NULL,
		added        TEXT NOT NULL
	)`,
	`CREATE TABLE sessions (
		id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: users type it
		uid         TEXT NOT NULL UNIQUE,              -- random, for merging shard databases
		kind        TEXT NOT NULL,                     -- run, compare, batch…
		label       TEXT NOT NULL DEFAULT '',
		args        TEXT NOT NULL DEFAULT '[]',
		meta        TEXT NOT NULL DEFAULT '{}',
		started     TEXT NOT NULL,
		ended       TEXT,                              -- NULL while it goes on
		interrupted INTEGER NOT NULL DEFAULT 0,        -- its process ended without EndSession
		host        TEXT NOT NULL DEFAULT '',
		pid         INTEGER NOT NULL DEFAULT 0,
		owner       TEXT NOT NULL DEFAULT ''           -- the DB handle that writes it
	)`,
	`CREATE TABLE runs (
		id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: users type it
		uid             TEXT NOT NULL UNIQUE,              -- random, for merging shard databases
		result_id       TEXT NOT NULL DEFAULT '',          -- record.Run.ID (also the log file's name)
		session_id      INTEGER REFERENCES sessions(id),
		config_id       INTEGER NOT NULL REFERENCES configs(id),
		kernel_path     TEXT NOT NULL DEFAULT '',
		kernel_label    TEXT NOT NULL DEFAULT '',
		variant         TEXT NOT NULL DEFAULT '',          -- A/B name in a comparison
		status          TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted')),
		verdict         TEXT NOT NULL DEFAULT '',
		kind            TEXT NOT NULL DEFAULT '',
		title           TEXT NOT NULL DEFAULT '',
		family          TEXT NOT NULL DEFAULT '',
		reason          TEXT NOT NULL DEFAULT '',
		time_to_crash_s REAL NOT NULL DEFAULT 0,
		boot_s          REAL NOT NULL DEFAULT 0,
		wall_s          REAL NOT NULL DEFAULT 0,
		accel           TEXT NOT NULL DEFAULT '',          -- as used: kvm, tcg,thread=multi…
		started         TEXT NOT NULL,
		finished        TEXT,                              -- NULL unless done
		host            TEXT NOT NULL DEFAULT '',
		pid             INTEGER NOT NULL DEFAULT 0,
		owner           TEXT NOT NULL DEFAULT '',
		result          TEXT                               -- the whole record.Run as JSON
	)`,
	`CREATE INDEX runs_session ON runs (session_id)`,
	`CREATE INDEX runs_config ON runs (config_id)`,
	`CREATE INDEX runs_running ON runs (owner) WHERE status = 'running'`,
	// Each iteration of the reproducer is its own statistical record.
	`CREATE TABLE iterations (
		run_id               INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		idx                  INTEGER NOT NULL,
		verdict              TEXT NOT NULL,
		kind                 TEXT NOT NULL DEFAULT '',
		title                TEXT NOT NULL DEFAULT '',
		family               TEXT NOT NULL DEFAULT '',
		time_to_crash_s      REAL NOT NULL DEFAULT 0,
		host_time_to_crash_s REAL NOT NULL DEFAULT 0,
		ran_s                REAL NOT NULL DEFAULT 0,
		PRIMARY KEY (run_id, idx)
	) WITHOUT ROWID`,
	// Console logs, apart from runs so that scanning runs stays cheap.
	`CREATE TABLE logs (
		run_id     INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
		codec      TEXT NOT NULL DEFAULT 'gzip',
		data       BLOB,                      -- NULL when the log could not be read
		raw_bytes  INTEGER NOT NULL,          -- console bytes the run produced
		kept_bytes INTEGER NOT NULL,          -- raw bytes stored (head + tail when capped)
		cap_bytes  INTEGER NOT NULL,          -- the cap in force
		capped     INTEGER NOT NULL,          -- 1 when bytes were dropped (here or by the run)
		path       TEXT NOT NULL DEFAULT '',  -- the log file it came from
		error      TEXT NOT NULL DEFAULT ''   -- why data is NULL
	)`,
}

func execAll(stmts ...string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// migrate applies the migrations past the database's version, each in its
// own transaction. Two processes opening a new database at once are safe:
// the version is re-read inside each (IMMEDIATE) transaction.
func migrate(ctx context.Context, db *sql.DB, ms []migration) error {
	last := 0
	if len(ms) > 0 {
		last = ms[len(ms)-1].version
	}
	v, err := schemaVersion(ctx, db)
	switch {
	case err != nil:
		return fmt.Errorf("reading the schema version: %w", err)
	case v == last:
		return nil // the common case: no write lock needed
	case v > last:
		return fmt.Errorf("%w: version %d, this crashrig knows up to %d", ErrNewerSchema, v, last)
	}
	for _, m := range ms {
		err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			v, err := schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			if v > last {
				return fmt.Errorf("%w: version %d, this crashrig knows up to %d", ErrNewerSchema, v, last)
			}
			if v >= m.version {
				return nil
			}
			if v != m.version-1 {
				return fmt.Errorf("schema version %d cannot migrate to %d", v, m.version)
			}
			if err := m.up(ctx, tx); err != nil {
				return err
			}
			// PRAGMA takes no parameters; version is an int.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return fmt.Errorf("schema migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}
