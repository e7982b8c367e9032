package store

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crashrig/crashrig/internal/record"
	"github.com/crashrig/crashrig/internal/verdict"
)

// A RunRecord is one stored run as the statistics and reports read it.
type RunRecord struct {
	ID, SessionID int64  // SessionID 0 = none
	UID           string // random, unique across databases (for merging)
	ResultID      string // record.Run.ID ("" until done)
	Status        string // "running", "done" or "interrupted"

	Verdict     verdict.Verdict // verdict.Interrupted when the run did not finish
	Kind        string
	Title       string
	Family      string
	Reason      string
	TimeToCrash float64 // guest seconds from reproducer start to the crash (0 = no crash)
	Boot        float64 // host seconds from qemu start to /init (0 = never)
	Wall        float64 // host seconds qemu ran
	Start       time.Time
	End         time.Time // zero unless done
	Host        string
	Accel       string // as used: "kvm", "tcg,thread=multi"…

	Config     record.Config
	ConfigHash string
	Iterations []verdict.Iteration // one statistical record each
	LogBytes   int64               // console bytes the run produced (0 = no log stored)
	LogCapped  bool                // the stored log lacks some of them
}

// A Query selects runs; its zero value selects all of them.
type Query struct {
	SessionID    int64  // 0 = any session
	ConfigHash   string // a Config.Hash or a prefix of one ("" = any)
	Variant      string // "" = any
	KernelSHA256 string // "" = any
	Status       string // "running", "done", "interrupted" ("" = any)
	Limit        int    // only the last Limit runs (0 = all)
}

func (q Query) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) { conds, args = append(conds, cond), append(args, a...) }
	if q.SessionID != 0 {
		add("r.session_id = ?", q.SessionID)
	}
	if q.ConfigHash != "" {
		add("substr(c.hash, 1, length(?)) = ?", q.ConfigHash, strings.ToLower(q.ConfigHash))
	}
	if q.Variant != "" {
		add("r.variant = ?", q.Variant)
	}
	if q.KernelSHA256 != "" {
		add("k.sha256 = ?", q.KernelSHA256)
	}
	if q.Status != "" {
		add("r.status = ?", q.Status)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

const runCols = `SELECT r.id, coalesce(r.session_id, 0), r.uid, r.result_id, r.status,
	r.verdict, r.kind, r.title, r.family, r.reason, r.time_to_crash_s, r.boot_s, r.wall_s,
	r.started, r.finished, r.host, r.accel, r.kernel_path, r.kernel_label, r.variant,
	c.hash, c.kernel_path, c.repro_args, c.smp, c.memory_mib, c.cmdline, c.accel, c.qemu_version, c.env,
	c.duration_s, c.iterations, coalesce(k.sha256, ''), coalesce(k.version, ''), p.name, p.hash,
	coalesce(l.raw_bytes, 0), coalesce(l.capped, 0)
`

// runFrom joins what a RunRecord needs; Query.where filters it.
const runFrom = `FROM runs r
	JOIN configs c ON c.id = r.config_id
	JOIN reproducers p ON p.id = c.repro_id
	LEFT JOIN kernels k ON k.id = c.kernel_id
	LEFT JOIN logs l ON l.run_id = r.id
`

const runSelect = runCols + runFrom

// Runs returns the runs q selects, in id order (the order they started).
func (db *DB) Runs(q Query) ([]RunRecord, error) {
	where, args := q.where()
	query, qargs := runSelect+where+" ORDER BY r.id", args
	if q.Limit > 0 {
		query, qargs = runSelect+where+" ORDER BY r.id DESC LIMIT ?", append(slices.Clip(args), q.Limit)
	}
	recs, err := db.scanRuns(query, qargs...)
	if err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	slices.SortFunc(recs, func(a, b RunRecord) int { return cmp.Compare(a.ID, b.ID) })
	if err := db.attachIterations(recs, where, args); err != nil {
		return nil, fmt.Errorf("reading iterations: %w", err)
	}
	return recs, nil
}

// Run returns one run.
func (db *DB) Run(runID int64) (*RunRecord, error) {
	where, args := "WHERE r.id = ?", []any{runID}
	recs, err := db.scanRuns(runSelect+where, args...)
	if err == nil && len(recs) == 0 {
		err = ErrNotFound
	}
	if err == nil {
		err = db.attachIterations(recs, where, args)
	}
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", runID, err)
	}
	return &recs[0], nil
}

func (db *DB) scanRuns(query string, args ...any) ([]RunRecord, error) {
	rows, err := db.sql.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		var r RunRecord
		var v string
		var started, finished sql.NullString
		var reproArgs, env, configKernelPath string
		c := &r.Config
		err := rows.Scan(&r.ID, &r.SessionID, &r.UID, &r.ResultID, &r.Status,
			&v, &r.Kind, &r.Title, &r.Family, &r.Reason, &r.TimeToCrash, &r.Boot, &r.Wall,
			&started, &finished, &r.Host, &r.Accel, &c.KernelPath, &c.KernelLabel, &c.Variant,
			&r.ConfigHash, &configKernelPath, &reproArgs, &c.SMP, &c.Memory, &c.Cmdline, &c.Accel, &c.QemuVersion, &env,
			&c.Duration, &c.Iterations, &c.KernelSHA256, &c.KernelVersion, &c.Reproducer, &c.ReproHash,
			&r.LogBytes, &r.LogCapped)
		if err != nil {
			return nil, err
		}
		r.Verdict, r.Start, r.End = verdict.Verdict(v), parseTime(started), parseTime(finished)
		if c.KernelPath == "" {
			c.KernelPath = configKernelPath
		}
		if err := errors.Join(unmarshalField("repro_args", reproArgs, &c.ReproArgs), unmarshalField("env", env, &c.Env)); err != nil {
			return nil, fmt.Errorf("run %d: %w", r.ID, err)
		}
		c.ReproArgs, c.Env = nilIfEmpty(c.ReproArgs), nilIfEmpty(c.Env)
		out = append(out, r)
	}
	return out, rows.Err()
}

// attachIterations reads the iterations of recs (sorted by id), which the
// filter where selected, in one query.
func (db *DB) attachIterations(recs []RunRecord, where string, args []any) error {
	if len(recs) == 0 {
		return nil
	}
	byID := make(map[int64]*RunRecord, len(recs))
	for i := range recs {
		byID[recs[i].ID] = &recs[i]
	}
	cond := "WHERE"
	if where != "" {
		cond = where + " AND"
	}
	rows, err := db.sql.Query(`SELECT i.run_id, i.idx, i.verdict, i.kind, i.title, i.family,
			i.time_to_crash_s, i.host_time_to_crash_s, i.ran_s
		`+runFrom+` JOIN iterations i ON i.run_id = r.id
		`+cond+` r.id BETWEEN ? AND ? ORDER BY i.run_id, i.idx`,
		append(args, recs[0].ID, recs[len(recs)-1].ID)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var it verdict.Iteration
		var v string
		if err := rows.Scan(&id, &it.Index, &v, &it.Kind, &it.Title, &it.Family, &it.TimeToCrash, &it.HostTTC, &it.Ran); err != nil {
			return err
		}
		it.Verdict = verdict.Verdict(v)
		if r := byID[id]; r != nil {
			r.Iterations = append(r.Iterations, it)
		}
	}
	return rows.Err()
}

// Result returns the record.Run recorded by FinishRun, as it was given
// (its Log names the file the log was read from, which may be gone: use
// Log for the stored copy).
func (db *DB) Result(runID int64) (*record.Run, error) {
	var text sql.NullString
	err := db.sql.QueryRow(`SELECT result FROM runs WHERE id = ?`, runID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !text.Valid {
		return nil, db.whyMissing(runID, "result")
	}
	if err != nil {
		return nil, fmt.Errorf("result of run %d: %w", runID, err)
	}
	var r record.Run
	if err := json.Unmarshal([]byte(text.String), &r); err != nil {
		return nil, fmt.Errorf("result of run %d: %w", runID, err)
	}
	return &r, nil
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
