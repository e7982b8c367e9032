package gitbisect

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/crashrig/crashrig/internal/atomicfile"
	"github.com/crashrig/crashrig/internal/bisect"
)

// A State is everything a bisection needs to go on after it was killed: the steps
// decided, the runs of the step under way and of both sides. It is rewritten (to a
// temporary file, then renamed) after every run, so a kill loses at most the run in
// flight.
type State struct {
	Key     string            `json:"key"` // what was asked: repo, ends, build, kernel, reproducer
	Good    string            `json:"good"`
	Bad     string            `json:"bad"`
	Planned int               `json:"planned"` // steps planned for the error budget
	Steps   []StepRecord      `json:"steps"`
	Pending *StepRecord       `json:"pending,omitempty"` // the step under way
	Refs    bisect.References `json:"references"`
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
	return atomicfile.WriteBytes(path, 0o600, b)
}
