package sequential

import (
	"math"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var inf = math.Inf(1)

// approx compares floats to 6 significant digits and treats NaNs as equal.
var approx = cmp.Options{cmpopts.EquateApprox(1e-6, 1e-9), cmpopts.EquateNaNs()}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }
