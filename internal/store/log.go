package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// A storedLog is a console log ready to insert.
type storedLog struct {
	data   []byte // gzip stream; nil when the log could not be read
	raw    int64  // console bytes the run produced
	kept   int64  // raw bytes in data, not counting the cut notice
	cap    int64
	capped bool   // bytes were dropped, here or by the run itself
	path   string // the file it came from
	err    string // why data is nil
}

// snap is how far the cut of a capped log moves to fall between lines.
const snap = 4 << 10

// gzipWriters holds fast compressors: on console logs level 1 is twice
// as fast as the default level and its output under a tenth bigger.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// captureLog reads the console log at path and compresses it, keeping at
// most limit raw bytes: when the log is longer, its head and its tail (the
// boot and the end of the run, where the crash is) around a line that says
// how much was dropped. runBytes and runCapped are what the run counted,
// which may exceed the file when the run capped it already.
func captureLog(path string, limit, runBytes int64, runCapped bool) storedLog {
	lg := storedLog{raw: runBytes, cap: limit, capped: runCapped, path: path}
	if path == "" {
		lg.err = "the run named no console log file"
		return lg
	}
	var buf bytes.Buffer
	buf.Grow(256 << 10)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	err := func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		lg.raw = max(lg.raw, st.Size())
		if st.Size() <= limit {
			lg.kept, err = io.Copy(zw, f)
			return err
		}
		lg.capped = true
		lg.kept, err = writeHeadTail(zw, f, st.Size(), limit)
		return err
	}()
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		lg.err = err.Error()
		return lg
	}
	lg.data = buf.Bytes()
	return lg
}

// writeHeadTail writes the first and last limit/2 bytes of the size bytes
// in r, each cut at a line boundary when one is near, with a notice between
// them, and returns how many bytes of r it wrote.
//
// It streams the two parts from r: only the snap-sized windows around the cuts are held
// in memory, so a capped log costs no more than its compressed output.
func writeHeadTail(w io.Writer, r io.ReaderAt, size, limit int64) (int64, error) {
	headEnd, tailStart := limit/2, size-(limit-limit/2)
	win := make([]byte, snap)
	// Move the head's end back to just after a newline within snap of the cut.
	lo := max(0, headEnd-snap)
	n, err := r.ReadAt(win[:headEnd-lo], lo)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if i := bytes.LastIndexByte(win[:n], '\n'); i >= 0 {
		headEnd = lo + int64(i) + 1
	}
	// Move the tail's start forward to just after a newline within snap of the cut.
	n, err = r.ReadAt(win[:min(snap, size-tailStart)], tailStart)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if i := bytes.IndexByte(win[:n], '\n'); i >= 0 && i < snap-1 {
		tailStart += int64(i) + 1
	}
	kept := headEnd + size - tailStart
	if _, err := io.Copy(w, io.NewSectionReader(r, 0, headEnd)); err != nil {
		return 0, err
	}
	var last [1]byte
	notice := fmt.Sprintf("[crashrig: %d bytes of console output dropped here: the store keeps %d bytes of each log]\n", size-kept, limit)
	if headEnd > 0 {
		if _, err := r.ReadAt(last[:], headEnd-1); err == nil && last[0] != '\n' {
			notice = "\n" + notice
		}
	}
	if _, err := io.WriteString(w, notice); err != nil {
		return 0, err
	}
	if _, err := io.Copy(w, io.NewSectionReader(r, tailStart, size-tailStart)); err != nil {
		return 0, err
	}
	return kept, nil
}

func (lg storedLog) insert(ctx context.Context, tx *sql.Tx, runID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO logs (run_id, codec, data, raw_bytes, kept_bytes, cap_bytes, capped, path, error)
		VALUES (?, 'gzip', ?, ?, ?, ?, ?, ?, ?)`, runID, lg.data, lg.raw, lg.kept, lg.cap, lg.capped, lg.path, lg.err)
	return err
}

// Log returns the console log stored with a run, decompressed. A capped log
// holds its head and tail with a line saying what was dropped between them.
func (db *DB) Log(runID int64) ([]byte, error) {
	var codec, errText string
	var data []byte
	err := db.sql.QueryRow(`SELECT codec, data, error FROM logs WHERE run_id = ?`, runID).Scan(&codec, &data, &errText)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, db.whyMissing(runID, "console log")
	}
	if err != nil {
		return nil, fmt.Errorf("console log of run %d: %w", runID, err)
	}
	if data == nil {
		return nil, fmt.Errorf("run %d has no stored console log (%s): %w", runID, errText, ErrNotFound)
	}
	if codec != "gzip" {
		return nil, fmt.Errorf("console log of run %d: unknown codec %q", runID, codec)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("console log of run %d: %w", runID, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("console log of run %d: %w", runID, err)
	}
	return out, nil
}

// whyMissing explains the absence of a run's result or log.
func (db *DB) whyMissing(runID int64, what string) error {
	var status string
	err := db.sql.QueryRow(`SELECT status FROM runs WHERE id = ?`, runID).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("run %d: %w", runID, ErrNotFound)
	case err != nil:
		return fmt.Errorf("run %d: %w", runID, err)
	}
	return fmt.Errorf("run %d is %s: no %s stored: %w", runID, status, what, ErrNotFound)
}
