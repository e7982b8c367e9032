package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crashrig/crashrig/internal/verdict"
)

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	sdb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sdb.Close() })
	return sdb
}

func userVersion(t *testing.T, q querier) int {
	t.Helper()
	v, err := schemaVersion(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// v1Fixture writes a database as the first crashrig with a store left it:
// schema version 1 and, in v1's own SQL, a finished run and one whose
// writer died.
func v1Fixture(t *testing.T, path string) {
	sdb := rawDB(t, path)
	if err := migrate(context.Background(), sdb, migrations[:1]); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("boot\n"))
	zw.Close()
	const ts = "2026-11-25T14:02:54.000000000Z"
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO kernels (id, sha256, version, path, label, added) VALUES (1, ?, '6.1.0', '/boot/vmlinuz', 'old', ?)`, []any{strings.Repeat("ab", 32), ts}},
		{`INSERT INTO reproducers (id, name, hash, added) VALUES (1, 'go20427', '', ?)`, []any{ts}},
		{`INSERT INTO configs (id, hash, kernel_id, repro_id, smp, memory_mib, cmdline, accel, qemu_version, duration_s, iterations, added)
			VALUES (1, ?, 1, 1, 2, 512, 'console=ttyS0', 'auto', '7.2', 60, 1, ?)`, []any{strings.Repeat("f0", 32), ts}},
		{`INSERT INTO sessions (id, uid, kind, started, ended) VALUES (3, 'u3', 'run', ?, ?)`, []any{ts, ts}},
		{`INSERT INTO runs (id, uid, session_id, config_id, status, verdict, title, started, finished, result, owner)
			VALUES (7, 'u7', 3, 1, 'done', 'crash', 'WARNING in foo', ?, ?, '{"id":"r7","verdict":"crash","title":"WARNING in foo"}', '')`, []any{ts, ts}},
		{`INSERT INTO iterations (run_id, idx, verdict, title) VALUES (7, 0, 'crash', 'WARNING in foo')`, nil},
		{`INSERT INTO logs (run_id, data, raw_bytes, kept_bytes, cap_bytes, capped) VALUES (7, ?, 5, 5, 8388608, 0)`, []any{gz.Bytes()}},
		{`INSERT INTO runs (id, uid, config_id, status, started, owner) VALUES (8, 'u8', 1, 'running', ?, ?)`, []any{ts, strings.Repeat("0f", 16)}},
	}
	for _, s := range stmts {
		if _, err := sdb.Exec(s.q, s.args...); err != nil {
			t.Fatalf("%s: %v", s.q, err)
		}
	}
	sdb.Close()
}

func TestOpenV1Fixture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crashrig.db")
	v1Fixture(t, path)
	db := openTest(t, path)
	if v := userVersion(t, db.sql); v != SchemaVersion {
		t.Errorf("schema version %d after Open, want %d", v, SchemaVersion)
	}
	rec, err := db.Run(7)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != "done" || rec.Verdict != verdict.Crash || rec.Title != "WARNING in foo" || len(rec.Iterations) != 1 ||
		rec.Config.KernelLabel != "" || rec.Config.KernelVersion != "6.1.0" || rec.SessionID != 3 || rec.LogBytes != 5 {
		t.Errorf("v1 run 7 reads back as %+v", rec)
	}
	if log, err := db.Log(7); err != nil || string(log) != "boot\n" {
		t.Errorf("Log(7) = %q, %v", log, err)
	}
	if r, err := db.Result(7); err != nil || r.ID != "r7" || r.Title != "WARNING in foo" {
		t.Errorf("Result(7) = %+v, %v", r, err)
	}
	if rec, _ := db.Run(8); rec.Status != "interrupted" {
		t.Errorf("v1 run 8, whose writer is gone, is %s after Open, want interrupted", rec.Status)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crashrig.db")
	for i := range 3 {
		db, err := Open(path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if v := userVersion(t, db.sql); v != SchemaVersion || SchemaVersion != len(migrations) {
			t.Errorf("open #%d: schema version %d, want %d (= %d migrations)", i+1, v, SchemaVersion, len(migrations))
		}
		var runs int
		db.sql.QueryRow("SELECT count(*) FROM runs").Scan(&runs)
		if runs != i {
			t.Errorf("open #%d: %d runs, want %d", i+1, runs, i)
		}
		if _, err := db.StartRun(0, testConfig()); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

// TestNextMigration runs a test-only migration past the real ones, as the
// next schema change will: it applies once, keeps the data, and an older
// crashrig then refuses the database instead of misreading it.
func TestNextMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crashrig.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := db.StartRun(0, testConfig())
	db.Close()

	next := append(slices.Clone(migrations), migration{SchemaVersion + 1, "test: runs.note",
		execAll(`ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT 'old'`)})
	sdb := rawDB(t, path)
	for range 2 { // the second pass must not run the ALTER again
		if err := migrate(context.Background(), sdb, next); err != nil {
			t.Fatal(err)
		}
	}
	if v := userVersion(t, sdb); v != SchemaVersion+1 {
		t.Errorf("schema version %d, want %d", v, SchemaVersion+1)
	}
	var note string
	if err := sdb.QueryRow(`SELECT note FROM runs WHERE id = ?`, id).Scan(&note); err != nil || note != "old" {
		t.Errorf("note of the old run = %q, %v", note, err)
	}
	sdb.Close()
	if _, err := Open(path); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open of a newer database: %v, want ErrNewerSchema", err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crashrig.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	bad := append(slices.Clone(migrations), migration{SchemaVersion + 1, "test: broken",
		execAll(`CREATE TABLE half (a)`, `NOT SQL`)})
	sdb := rawDB(t, path)
	if err := migrate(context.Background(), sdb, bad); err == nil {
		t.Fatal("a broken migration succeeded")
	}
	var n int
	sdb.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n)
	if v := userVersion(t, sdb); v != SchemaVersion || n != 0 {
		t.Errorf("after a failed migration: version %d, table half exists: %v; want %d and no table", v, n == 1, SchemaVersion)
	}
	sdb.Close()
	openTest(t, path)
}

func TestConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "crashrig.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(path)
			if err == nil {
				_, err = db.StartRun(0, testConfig())
				err = errors.Join(err, db.Close())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	db := openTest(t, path)
	recs, _ := db.Runs(Query{})
	if len(recs) != 4 {
		t.Errorf("%d runs after 4 concurrent first opens, want 4", len(recs))
	}
}
