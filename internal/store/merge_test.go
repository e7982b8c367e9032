package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashrig/crashrig/internal/verdict"
)

// shardDB writes a database like one shard of a batch: one batch session
// of plan "nightly" and runs runs, every third a crash, one interrupted.
func shardDB(t testing.TB, dir string, shard, shards, runs int, planHash string) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("shard-%d.db", shard))
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.BeginSession("batch", "nightly", []string{"crashrig", "batch"})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"plan": "nightly", "plan_hash": planHash, "shard": fmt.Sprintf("%d/%d", shard, shards),
		"shards": fmt.Sprint(shards), "tag": "t1", "state": "complete"} {
		if err := db.SetSessionMeta(s.ID, k, v); err != nil {
			t.Fatal(err)
		}
	}
	log := writeFile(t, filepath.Join(dir, fmt.Sprintf("log-%d", shard)), consoleLog(4<<10, uint64(shard)))
	for i := 0; i < runs; i++ {
		c := testConfig()
		c.Variant = fmt.Sprintf("cell-%d", i%4)
		id, err := db.StartRun(s.ID, c)
		if err != nil {
			t.Fatal(err)
		}
		if i == runs-1 {
			db.MarkInterrupted(id)
			continue
		}
		r := testResult(log, 4<<10)
		if i%3 != 0 {
			r.Verdict, r.Title, r.Iterations = verdict.Pass, "", []verdict.Iteration{{Index: 0, Verdict: verdict.Pass, Ran: 3}}
		}
		if err := db.FinishRun(id, r); err != nil {
			t.Fatal(err)
		}
	}
	db.EndSession(s.ID)
	return path
}

type counts struct{ sessions, runs, done, crashes, iterations, logs int }

func countAll(t testing.TB, db *DB) counts {
	t.Helper()
	var c counts
	for q, dst := range map[string]*int{
		`SELECT count(*) FROM sessions`:                     &c.sessions,
		`SELECT count(*) FROM runs`:                         &c.runs,
		`SELECT count(*) FROM runs WHERE status = 'done'`:   &c.done,
		`SELECT count(*) FROM runs WHERE verdict = 'crash'`: &c.crashes,
		`SELECT count(*) FROM iterations`:                   &c.iterations,
		`SELECT count(*) FROM logs WHERE data IS NOT NULL`:  &c.logs,
	} {
		if err := db.sql.QueryRow(q).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestMergeIdempotent: four shards merge to the sum of their rows, the
// merged runs read back whole (iterations, logs, sessions), and merging
// them all again changes nothing.
func TestMergeIdempotent(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	var want counts
	for i := 0; i < 4; i++ {
		p := shardDB(t, dir, i, 4, 7+i, "h1")
		paths = append(paths, p)
		s := openTest(t, p)
		c := countAll(t, s)
		s.Close()
		want.sessions += c.sessions
		want.runs += c.runs
		want.done += c.done
		want.crashes += c.crashes
		want.iterations += c.iterations
		want.logs += c.logs
	}
	all := openTest(t, filepath.Join(dir, "all.db"))
	for round := 0; round < 2; round++ {
		for _, p := range paths {
			st, err := all.Merge(p)
			if err != nil {
				t.Fatal(err)
			}
			if round == 1 && (st.Runs != 0 || st.Sessions != 0 || st.Seen == 0) {
				t.Errorf("merging %s again added %+v, want nothing", p, st)
			}
		}
		if got := countAll(t, all); got != want {
			t.Errorf("round %d: merged counts %+v, want %+v", round, got, want)
		}
	}
	// A merged crash reads back with its log and iterations under its session.
	ss, _ := all.Sessions(0)
	recs, err := all.Runs(Query{SessionID: ss[0].ID, Status: "done"})
	if err != nil || len(recs) == 0 {
		t.Fatalf("runs of merged session %d: %v, %v", ss[0].ID, len(recs), err)
	}
	if len(recs[0].Iterations) != 3 || recs[0].Verdict != verdict.Crash {
		t.Errorf("merged run %+v: want the crash with its 3 iterations", recs[0])
	}
	if b, err := all.Log(recs[0].ID); err != nil || len(b) != 4<<10 {
		t.Errorf("merged log: %d bytes, %v", len(b), err)
	}
	if ss[0].Meta["plan_hash"] != "h1" || ss[0].Ended.IsZero() {
		t.Errorf("merged session %+v lost its metadata or end", ss[0])
	}
}

// TestMergeConflict: a shard of the same plan name and tag that ran another
// plan hash is refused, and nothing of it is added.
func TestMergeConflict(t *testing.T) {
	dir := t.TempDir()
	a := shardDB(t, dir, 0, 2, 3, "h1")
	b := shardDB(t, t.TempDir(), 1, 2, 3, "h2")
	all := openTest(t, filepath.Join(dir, "all.db"))
	if _, err := all.Merge(a); err != nil {
		t.Fatal(err)
	}
	before := countAll(t, all)
	_, err := all.Merge(b)
	if !errors.Is(err, ErrMergeConflict) {
		t.Fatalf("Merge of another plan = %v, want ErrMergeConflict", err)
	}
	t.Log(err)
	if after := countAll(t, all); after != before {
		t.Errorf("a refused merge changed the database: %+v → %+v", before, after)
	}
	if _, err := all.Merge(filepath.Join(dir, "all.db")); err == nil {
		t.Error("merging a database into itself was accepted")
	}
}

// BenchmarkMerge16x1000 merges 16 shard databases of 1000 runs each (4 KiB
// console logs) into a new database; b.N merges of all 16.
func BenchmarkMerge16x1000(b *testing.B) {
	dir := b.TempDir()
	var paths []string
	for i := 0; i < 16; i++ {
		paths = append(paths, shardDB(b, dir, i, 16, 1000, "h1"))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		all, err := Open(filepath.Join(b.TempDir(), "all.db"))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		for _, p := range paths {
			if _, err := all.Merge(p); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s/16-shards")
		all.Close()
	}
}
