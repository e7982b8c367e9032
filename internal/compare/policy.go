package compare

import (
	"github.com/crashrig/crashrig/internal/batch"
	"github.com/crashrig/crashrig/internal/sequential"
	"github.com/crashrig/crashrig/internal/store"
)

// Policy is the batch policy that drives cmp: variant i of a ticket is
// variant i of the comparison. It also implements batch.EarlyStopper.
// Drivers that schedule comparisons among other work (crashrig batch) use
// it as crashrig compare does.
func Policy(cmp *sequential.Comparison) batch.Policy { return &policy{cmp: cmp} }

// StoredResults turns one stored run of variant into the test's results,
// for replaying the runs of an interrupted comparison.
func StoredResults(variant int, r store.RunRecord) []sequential.Observation {
	return observations(variant, r)
}
