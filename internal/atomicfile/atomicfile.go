// Package atomicfile writes files that appear whole or not at all: every file
// crashrig produces for a user or a cache (reports, images, built programs,
// probe results) goes through a temporary file in the same directory and is
// renamed into place only when it is complete, so a failure, a full disk or a
// kill leaves nothing half-written at the path. It is a thin layer over
// github.com/google/renameio, which does the renaming and the fsync.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// Write creates or replaces path with what write produces, with mode perm.
// On any error nothing changes at path and no temporary file is left.
func Write(path string, perm os.FileMode, write func(io.Writer) error) error {
	pf, err := renameio.NewPendingFile(path, renameio.WithStaticPermissions(perm), renameio.WithTempDir(filepath.Dir(path)))
	if err != nil {
		return err
	}
	defer pf.Cleanup()
	bw := bufio.NewWriterSize(pf, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return pf.CloseAtomicallyReplace()
}

// WriteBytes is Write for data already in memory.
func WriteBytes(path string, perm os.FileMode, data []byte) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Produce lets another program write the file: produce gets a temporary path
// in path's directory (an empty file exists there) and writes or replaces it,
// e.g. `go build -o TMP`; when produce succeeds the result is renamed to path
// with mode perm. On any error nothing changes at path.
func Produce(path string, perm os.FileMode, produce func(tmp string) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := produce(tmp.Name()); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
