package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperMain runs the test binary as a helper process: a "writer" that
// records runs in a loop until killed, or a "holder" that starts one run
// and finishes it when its stdin closes. Both print "start ID" and "done ID"
// right after StartRun and FinishRun return.
func helperMain(kind string) int {
	db, err := Open(os.Getenv("CRASHRIG_STORE_DB"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logs := filepath.SplitList(os.Getenv("CRASHRIG_STORE_LOGS"))
	switch kind {
	case "writer":
		db.LogCap = 1 << 20
		err = writeLoop(db, logs)
	case "holder":
		err = holdOne(db, logs[0])
	default:
		err = fmt.Errorf("unknown helper %q", kind)
	}
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func writeLoop(db *DB, logs []string) error {
	s, err := db.BeginSession("batch", "writer", os.Args)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		if i%5 == 4 {
			if err := db.EndSession(s.ID); err != nil {
				return err
			}
			if s, err = db.BeginSession("batch", "writer", os.Args); err != nil {
				return err
			}
		}
		id, err := db.StartRun(s.ID, testConfig())
		if err != nil {
			return err
		}
		fmt.Printf("start %d\n", id)
		if err := db.FinishRun(id, testResult(logs[i%len(logs)], 0)); err != nil {
			return err
		}
		fmt.Printf("done %d\n", id)
	}
}

func holdOne(db *DB, log string) error {
	s, err := db.BeginSession("run", "holder", nil)
	if err != nil {
		return err
	}
	id, err := db.StartRun(s.ID, testConfig())
	if err != nil {
		return err
	}
	fmt.Printf("start %d\n", id)
	io.Copy(io.Discard, os.Stdin)
	if err := db.FinishRun(id, testResult(log, 0)); err != nil {
		return err
	}
	fmt.Printf("done %d\n", id)
	return db.EndSession(s.ID)
}

// A proc is a helper process.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	lines  chan string // its stdout, closed at EOF
	seen   []string
}

func startProc(t *testing.T, kind, dbPath string, logs ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(os.Args[0], "-test.run=^$"), lines: make(chan string, 1<<16)}
	p.cmd.Env = append(os.Environ(), helperEnv+"="+kind, "CRASHRIG_STORE_DB="+dbPath,
		"CRASHRIG_STORE_LOGS="+strings.Join(logs, string(filepath.ListSeparator)))
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.wait()
		}
	})
	return p
}

// next waits for the next line that starts with word and returns its id.
func (p *proc) next(t *testing.T, word string) int64 {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("helper ended before printing %q; stderr:\n%s", word, p.stderr.String())
			}
			p.seen = append(p.seen, l)
			if w, id, _ := strings.Cut(l, " "); w == word {
				n, _ := strconv.ParseInt(id, 10, 64)
				return n
			}
		case <-timeout:
			t.Fatalf("no %q line from the helper in a minute", word)
		}
	}
}

// wait reads the rest of the output and reaps the process.
func (p *proc) wait() error {
	for l := range p.lines {
		p.seen = append(p.seen, l)
	}
	return p.cmd.Wait()
}

// kill sends SIGKILL and returns every line the helper printed.
func (p *proc) kill(t *testing.T) []string {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	err := p.wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v before it was killed; stderr:\n%s", err, p.stderr.String())
	}
	return p.seen
}

func TestKillWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crashrig.db")
	logs := []string{
		writeFile(t, filepath.Join(dir, "small.log"), consoleLog(30<<10, 3)),
		writeFile(t, filepath.Join(dir, "big.log"), consoleLog(3<<20, 4)), // over the writer's 1 MiB cap
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	known := map[int64]string{} // run id → status, as of the last check
	const rounds = 12
	for round := range rounds {
		p := startProc(t, "writer", path, logs...)
		if round > 0 { // round 0 may kill it while it opens and migrates
			p.next(t, "start")
		}
		time.Sleep(time.Duration(rng.Int64N(int64(150 * time.Millisecond))))
		started, done := parseIDs(p.kill(t))

		db, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: reopening after kill -9: %v", round, err)
		}
		checkAfterKill(t, db, known, started, done)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var nDone, nInterrupted int
	for _, s := range known {
		if s == "done" {
			nDone++
		} else {
			nInterrupted++
		}
	}
	t.Logf("%d kills: %d runs done, %d interrupted", rounds, nDone, nInterrupted)
	if nDone == 0 || nInterrupted == 0 {
		t.Errorf("the kills never caught the writer both between and inside runs (%d done, %d interrupted)", nDone, nInterrupted)
	}
}

func parseIDs(lines []string) (started []int64, done map[int64]bool) {
	done = map[int64]bool{}
	for _, l := range lines {
		w, s, _ := strings.Cut(l, " ")
		id, _ := strconv.ParseInt(s, 10, 64)
		switch w {
		case "start":
			started = append(started, id)
		case "done":
			done[id] = true
		}
	}
	return started, done
}

// checkAfterKill checks the database after a writer was killed and Open
// ran: it is intact, every run the writer saw finish is done with all its
// iterations, at most the one run in flight is interrupted, nothing is
// counted twice, and no earlier run changed.
func checkAfterKill(t *testing.T, db *DB, known map[int64]string, started []int64, reported map[int64]bool) {
	t.Helper()
	var ic string
	if err := db.sql.QueryRow("PRAGMA integrity_check").Scan(&ic); err != nil || ic != "ok" {
		t.Fatalf("integrity_check: %q, %v", ic, err)
	}
	if rows, err := db.sql.Query("PRAGMA foreign_key_check"); err != nil || rows.Next() {
		t.Errorf("foreign_key_check found violations (%v)", err)
	} else {
		rows.Close()
	}
	recs, err := db.Runs(Query{})
	if err != nil {
		t.Fatal(err)
	}
	var newIDs []int64
	status := map[int64]string{}
	nDone := 0
	for _, r := range recs {
		status[r.ID] = r.Status
		if prev, ok := known[r.ID]; ok && prev != r.Status {
			t.Errorf("run %d was %s and is now %s", r.ID, prev, r.Status)
		} else if !ok {
			newIDs = append(newIDs, r.ID)
		}
		switch r.Status {
		case "done":
			nDone++
			if len(r.Iterations) != 3 || r.LogBytes == 0 || r.Verdict != "crash" {
				t.Errorf("done run %d: %d iterations, %d log bytes, verdict %s", r.ID, len(r.Iterations), r.LogBytes, r.Verdict)
			}
		case "interrupted":
			if len(r.Iterations) != 0 || r.LogBytes != 0 || r.Verdict != "interrupted" {
				t.Errorf("interrupted run %d: %d iterations, %d log bytes, verdict %s", r.ID, len(r.Iterations), r.LogBytes, r.Verdict)
			}
		default:
			t.Errorf("run %d is still %s after Open", r.ID, r.Status)
		}
	}
	for id := range reported {
		if status[id] != "done" {
			t.Errorf("run %d finished before the kill but is %q", id, status[id])
		}
	}
	var inFlight []int64 // begun but not seen to finish
	for _, id := range newIDs {
		if !reported[id] {
			inFlight = append(inFlight, id)
		}
	}
	for _, id := range started {
		if !slices.Contains(newIDs, id) {
			t.Errorf("run %d started before the kill but is not new in the database", id)
		}
	}
	if len(inFlight) > 1 {
		t.Errorf("runs %v were all in flight at the kill; at most one can be", inFlight)
	}
	var nIter, nLogs, nOpen int
	db.sql.QueryRow("SELECT count(*) FROM iterations").Scan(&nIter)
	db.sql.QueryRow("SELECT count(*) FROM logs").Scan(&nLogs)
	db.sql.QueryRow("SELECT count(*) FROM sessions WHERE ended IS NULL").Scan(&nOpen)
	if nIter != 3*nDone || nLogs != nDone {
		t.Errorf("%d iterations and %d logs for %d done runs: want %d and %d", nIter, nLogs, nDone, 3*nDone, nDone)
	}
	if nOpen != 0 {
		t.Errorf("%d sessions of the dead writer are still open", nOpen)
	}
	for id, s := range status {
		known[id] = s
	}
}

func TestLiveWriterUntouched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crashrig.db")
	log := writeFile(t, filepath.Join(dir, "run.log"), consoleLog(30<<10, 5))
	statusOf := func(id int64) string {
		t.Helper()
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rec, err := db.Run(id)
		if err != nil {
			t.Fatal(err)
		}
		return rec.Status
	}

	// Another process opening (and closing) the database leaves a live
	// writer's run alone, however often it does.
	p := startProc(t, "holder", path, log)
	id := p.next(t, "start")
	for range 3 {
		if s := statusOf(id); s != "running" {
			t.Fatalf("a live writer's run is %s after another Open, want running", s)
		}
	}
	p.stdin.Close()
	p.next(t, "done")
	if err := p.wait(); err != nil {
		t.Fatalf("holder: %v\n%s", err, p.stderr.String())
	}
	if s := statusOf(id); s != "done" {
		t.Errorf("run %d is %s, want done", id, s)
	}

	// Of two writers, Open marks the dead one's run and only that one.
	dead, live := startProc(t, "holder", path, log), startProc(t, "holder", path, log)
	deadID, liveID := dead.next(t, "start"), live.next(t, "start")
	dead.kill(t)
	if s := statusOf(deadID); s != "interrupted" {
		t.Errorf("killed writer's run is %s, want interrupted", s)
	}
	if s := statusOf(liveID); s != "running" {
		t.Errorf("live writer's run is %s, want running", s)
	}
	live.stdin.Close()
	if err := live.wait(); err != nil {
		t.Fatalf("holder: %v\n%s", err, live.stderr.String())
	}
	if s := statusOf(liveID); s != "done" {
		t.Errorf("live writer's run is %s after it finished, want done", s)
	}
}

func TestHandlesInOneProcess(t *testing.T) {
	db1, path := tempDB(t)
	log := writeFile(t, filepath.Join(t.TempDir(), "log"), []byte("boot\n"))
	id1, _ := db1.StartRun(0, testConfig())
	db2 := openTest(t, path)
	if rec, _ := db2.Run(id1); rec.Status != "running" {
		t.Errorf("a second handle in the same process marked the first one's run %s", rec.Status)
	}

	// Close marks the handle's own unfinished runs.
	id2, _ := db2.StartRun(0, testConfig())
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
	if rec, _ := db1.Run(id2); rec.Status != "interrupted" {
		t.Errorf("run left by Close is %s, want interrupted", rec.Status)
	}

	// A handle whose lock is gone counts as dead; if it was not, its
	// FinishRun still records the run.
	db1.owner.release()
	db3 := openTest(t, path)
	if rec, _ := db3.Run(id1); rec.Status != "interrupted" {
		t.Errorf("run of a handle without its lock is %s, want interrupted", rec.Status)
	}
	if err := db1.FinishRun(id1, testResult(log, 5)); err != nil {
		t.Fatal(err)
	}
	if rec, _ := db3.Run(id1); rec.Status != "done" || len(rec.Iterations) != 3 {
		t.Errorf("run finished after it was marked interrupted: %s with %d iterations, want done with 3", rec.Status, len(rec.Iterations))
	}
	if ents, _ := os.ReadDir(ownerDir(path)); len(ents) != 1 {
		t.Errorf("%d owner files left with one handle open, want 1", len(ents))
	}
}
