package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/crashrig/crashrig/internal/store"
)

// checkOutput refuses an output path crashrig could not write, before any work is done:
// its directory must exist and be a directory. flag names the option in the message.
func checkOutput(flag, path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageErr("%s %s: directory %s does not exist (create it first)", flag, path, dir)
	case err != nil:
		return usageErr("%s %s: %v", flag, path, err)
	case !st.IsDir():
		return usageErr("%s %s: %s is not a directory", flag, path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usageErr("%s %s: is a directory; give a file name", flag, path)
	}
	return nil
}

// openExisting opens the results database for a command that only reads it: a missing
// database is bad input (nothing was recorded there), not a new empty file.
func openExisting(path string) (*store.DB, error) {
	p := path
	if p == "" {
		p = store.DefaultPath()
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		hint := "crashrig run or compare records runs there"
		if path != "" {
			hint += "; check the --db path"
		}
		return nil, usageErr("no results database at %s: nothing recorded yet (%s)", p, hint)
	}
	db, err := store.Open(p)
	if err != nil {
		return nil, &exitError{code: exitInfra, err: err}
	}
	return db, nil
}

// readErr classifies a failure to read an input file: missing or unreadable is bad
// input (exit 2), anything else a host fault.
func readErr(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return usageErr("%v", err)
	}
	return &exitError{code: exitInfra, err: fmt.Errorf("reading %s: %w", name, err)}
}
