package gitbisect

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crashrig/crashrig/internal/bisect"
)

// A State is everything a bisection needs to go on after it was killed: the steps
// decided, the runs of the step under way and of both sides. It is rewritten (to a
// temporary file, then renamed) after every run, so a kill loses at most the run in
// flight.
type State struct {
	Key     string             `json:"key"` // what was asked: repo, ends, build, kernel, reproducer
	Good    string             `json:"good"`
	Bad     string             `json:"bad"`
	Planned int                `json:"planned"` // steps planned for the error budget
	Steps   []StepRecord       `json:"steps"`
	Pending *StepRecord        `json:"pending,omitempty"` // the step under way
	Refs    bisect.References  `json:"references"`
	Builds  map[string]string  `json:"builds,omitempty"` // commit → "ok" or why it did not build
	Extra   map[string]float64 `json:"extra,omitempty"`
}

// A StepRecord is one step: the commit, its verdict and its runs.
type StepRecord struct {
	Commit  string          `json:"commit"`
	Subject string          `json:"subject,omitempty"`
	Verdict string          `json:"verdict"` // good, bad, skip, inconclusive ("" while running)
	Reason  string          `json:"reason,omitempty"`
	Share   float64         `json:"share"`
	VM      float64         `json:"vm"`
	Runs    []bisect.Sample `json:"runs,omitempty"`
}

func loadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %v (delete it to start over)", path, err)
	}
	return &s, nil
}

func (s *State) save(path string) error {
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
