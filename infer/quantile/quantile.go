// Package quantile holds the project's sample quantiles, each named by its
// Hyndman–Fan definition (Hyndman and Fan, "Sample quantiles in
// statistical packages", 1996), so that the engine, the evaluation and the
// daemon's latency figures say which one they use. Every function takes the
// sample sorted ascending and not empty.
//
// gonum's stat.Quantile offers types 1 (Empirical) and 4 (LinInterp) only,
// and the engine's thresholds were fitted with type 7, so the package keeps
// its own arithmetic; its tests check it against gonum where the
// definitions meet.
package quantile

import "math"

// Linear is Hyndman–Fan type 7 (R's default, numpy's "linear"): linear
// between the order statistics at position q*(n-1), counted from 0.
func Linear(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// Lower is the lower of the two order statistics that Linear interpolates
// between (numpy's "lower"): the element at floor(q*(n-1)). It never
// exceeds Linear and is always a sample value.
func Lower(sorted []float64, q float64) float64 {
	return sorted[LowerIndex(len(sorted), q)]
}

// LowerIndex is the index Lower takes in a sample of n.
func LowerIndex(n int, q float64) int {
	return int(math.Floor(q * float64(n-1)))
}

// NearestRankIndex is the index of Hyndman–Fan type 1 (the inverse of the
// empirical distribution function, gonum's stat.Empirical) in a sample of
// n: the smallest i with (i+1)/n >= p, clamped to the sample. A product
// p*n within 1e-6 above a whole number counts as that number, so that
// p = 0.99 of 100 samples is the 99th and not the 100th.
func NearestRankIndex(n int, p float64) int {
	i := int(p*float64(n)+0.999999) - 1
	return min(max(i, 0), n-1)
}
