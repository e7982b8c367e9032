package report

import (
	"fmt"
	"io"
)

// A Status is how one check of crashrig doctor came out.
type Status string

// The statuses, as printed.
const (
	OK   Status = "ok"
	Info Status = "info"
	Warn Status = "warn"
	Fail Status = "FAIL" // something essential is missing: verdicts cannot be trusted
)

// A Check is one line of crashrig doctor: what was checked, how it came out,
// and the detail or the fix.
type Check struct {
	Status Status
	What   string
	Detail string
}

// Checks prints checks one a line and returns how many failed.
func Checks(w io.Writer, cs []Check) (failed int) {
	for _, c := range cs {
		if c.Status == Fail {
			failed++
		}
		fmt.Fprintf(w, "%-4s  %-28s %s\n", c.Status, c.What, c.Detail)
	}
	return failed
}
