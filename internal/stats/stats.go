// Package stats holds the one percentile the benchmarks and the load tool
// report with.
package stats

import (
	"math"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted values
// by the nearest-rank method: the smallest value that at least p percent
// of the values do not exceed. It is exact, as an HDR histogram of
// unlimited precision would report it. 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The epsilon keeps 99.9% of 1000 at rank 999, whatever the
	// rounding of 99.9 in binary.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}
