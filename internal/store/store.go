// Package store keeps crashrig's results in one SQLite file: the kernels
// and reproducers that were run, the configurations that make two runs
// comparable, every run with its verdict and per-iteration outcomes, each
// run's console log (gzip-compressed, size-capped) and the sessions
// (crashrig run, compare, batch) that grouped them.
//
// What goes in: a record.Config at StartRun and a *record.Run at FinishRun. What
// comes out: RunRecords for the statistics and reports, the full record.Run as
// JSON, and the stored console log. Out of scope: deciding verdicts,
// statistics, rendering, and merging shard databases (the natural keys —
// kernel sha256, config hash, run and session uids — are kept so that a
// merge can be written).
//
// The database runs in WAL mode with a busy timeout and short
// transactions, so two crashrig processes may share one file. A run is
// written twice: a 'running' row at StartRun and, in one transaction, its
// whole record at FinishRun. If the process dies in between (kill -9, a
// power cut), the next Open marks the run 'interrupted': each DB handle
// holds a lock on a small owner file beside the database for its lifetime,
// so Open can tell a dead writer from a live one (which it never touches),
// across processes, PID namespaces and PID reuse alike.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/crashrig/crashrig/internal/xdg"
)

// ErrNotFound is returned for a run or session that does not exist, and
// for a run that has no stored result or console log.
var ErrNotFound = errors.New("not found")

// DefaultLogCap is the console log kept per run, in raw bytes.
const DefaultLogCap = 4 << 20

// busyTimeout is how long a statement waits for another process's
// transaction before failing: FinishRun of a 4 MiB log takes well under
// a second, so this only runs out when something is stuck.
const busyTimeout = 30 * time.Second

// A DB is an open results database. Its methods may be called from several
// goroutines; crashrig normally writes from one collector goroutine.
type DB struct {
	// LogCap is the most console log kept per run, in raw bytes: longer logs
	// keep their head and tail (0 = DefaultLogCap).
	LogCap int64

	sql    *sql.DB
	path   string
	host   string
	owner  *owner
	closed bool
}

// DefaultPath is where the database lives unless --db says otherwise:
// $XDG_STATE_HOME/crashrig/crashrig.db.
func DefaultPath() string { return filepath.Join(xdg.StateDir(), "crashrig.db") }

// Open opens the database at path ("" = DefaultPath), creating it and its
// directory if needed, brings its schema up to date, and marks interrupted
// every run left 'running' by a DB handle whose process is gone.
func Open(path string) (*DB, error) {
	if path == "" {
		path = DefaultPath()
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs // the owners directory and Path stay right if the process changes directory
	}
	// The database holds console logs and command lines: private, as the XDG base
	// directory spec asks of state (0700 directories, 0600 files).
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("opening results database: %w", err)
	}
	sdb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db := &DB{sql: sdb, path: path}
	db.host, _ = os.Hostname()
	if err := db.open(); err != nil {
		sdb.Close()
		if db.owner != nil {
			db.owner.release()
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		os.Chmod(f, 0o600) // sqlite creates them 0644 less the umask
	}
	return db, nil
}

func (db *DB) open() error {
	ctx := context.Background()
	if err := migrate(ctx, db.sql, migrations); err != nil {
		return err
	}
	var err error
	if db.owner, err = newOwner(db.path); err != nil {
		return err
	}
	return db.recoverDead(ctx)
}

// dsn is the connection string: every connection of the pool gets the same
// pragmas. Write transactions begin IMMEDIATE so that two processes never
// deadlock upgrading a read lock, and synchronous=NORMAL keeps every
// committed transaction across a process kill (only a power cut can lose
// the last ones, never consistency).
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close marks interrupted the runs this handle started and did not finish,
// ends its open sessions the same way, and closes the database. Closing
// again does nothing.
func (db *DB) Close() error {
	if db.closed {
		return nil
	}
	db.closed = true
	err := db.abandon(context.Background(), db.owner.token)
	if cerr := db.sql.Close(); err == nil {
		err = cerr
	}
	db.owner.release()
	if err != nil {
		return fmt.Errorf("closing %s: %w", db.path, err)
	}
	return nil
}

// timeFormat is fixed-width so that stored times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, err := time.Parse(timeFormat, s.String)
	if err != nil {
		return time.Time{}
	}
	return t
}

// inTx runs f in one IMMEDIATE transaction and commits it.
func (db *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
