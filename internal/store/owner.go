package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// An owner is one DB handle's claim on the rows it writes: a random token
// stored in runs.owner and sessions.owner, and an exclusive flock(2) on the
// file <db>-owners/<token>, held until Close or the death of the process.
//
// The kernel drops a flock when its holder dies, whatever killed it, so
// whoever can take the lock knows the owner is gone. Unlike a pid and its
// start time, this holds across PID namespaces (two containers sharing a
// volume) and for two handles in one process (flock locks belong to the open
// file, not the process). A database copied to another machine without its
// owners directory has only dead owners, which is right: nothing writes it
// there.
type owner struct {
	token string
	f     *os.File
}

func ownerDir(dbPath string) string { return dbPath + "-owners" }

func newOwner(dbPath string) (*owner, error) {
	dir := ownerDir(dbPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("owner lock: %w", err)
	}
	token := randomHex(16)
	f, err := os.OpenFile(filepath.Join(dir, token), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("owner lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("owner lock %s: %w", f.Name(), err)
	}
	host, _ := os.Hostname()
	fmt.Fprintf(f, "pid %d host %s since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	return &owner{token: token, f: f}, nil
}

// release gives up the claim: remove the file while still holding its lock,
// so no one can mistake the name for a dead owner's with rows to abandon.
func (o *owner) release() {
	if o == nil || o.f == nil {
		return
	}
	os.Remove(o.f.Name())
	o.f.Close()
	o.f = nil
}

// claimDead reports whether the handle that owns token is gone and, if so,
// returns its lock (held: release it after abandoning the owner's rows).
// Anything unexpected counts as alive: a live writer must never be touched.
func claimDead(dbPath, token string) (*owner, bool) {
	if !validToken(token) {
		return nil, true // not written by a handle of this package: nobody holds it
	}
	f, err := os.OpenFile(filepath.Join(ownerDir(dbPath), token), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, true
	}
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return &owner{token: token, f: f}, true
}

func validToken(t string) bool {
	if len(t) != 32 {
		return false
	}
	_, err := hex.DecodeString(t)
	return err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// recoverDead marks interrupted the runs and sessions of every owner that
// is gone, then removes the lock files of dead owners with no rows left.
func (db *DB) recoverDead(ctx context.Context) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT owner FROM runs WHERE status = 'running'
		UNION SELECT owner FROM sessions WHERE ended IS NULL`)
	if err != nil {
		return fmt.Errorf("finding unfinished runs: %w", err)
	}
	var tokens []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tokens = append(tokens, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tokens {
		if t == db.owner.token {
			continue
		}
		lock, dead := claimDead(db.path, t)
		if !dead {
			continue
		}
		err := db.abandon(ctx, t)
		lock.release()
		if err != nil {
			return fmt.Errorf("marking the runs of a dead writer interrupted: %w", err)
		}
	}
	db.sweepOwners()
	return nil
}

// sweepOwners removes the lock files of dead owners.
func (db *DB) sweepOwners() {
	ents, _ := os.ReadDir(ownerDir(db.path))
	for _, e := range ents {
		if e.Name() == db.owner.token || !validToken(e.Name()) {
			continue
		}
		if lock, dead := claimDead(db.path, e.Name()); dead {
			lock.release()
		}
	}
}

// abandon marks interrupted the unfinished runs and sessions of one owner.
// It only ever touches rows still running, so it is safe to repeat.
func (db *DB) abandon(ctx context.Context, token string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'interrupted', verdict = 'interrupted',
			reason = 'the crashrig process recording this run ended before the run did'
			WHERE status = 'running' AND owner = ?`, token); err != nil {
			return err
		}
		// A session ends when its last run started or finished, not when
		// someone noticed its process was gone.
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET interrupted = 1,
			ended = coalesce((SELECT max(coalesce(r.finished, r.started)) FROM runs r WHERE r.session_id = sessions.id), started)
			WHERE ended IS NULL AND owner = ?`, token)
		return err
	})
}
