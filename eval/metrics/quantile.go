package metrics

import "github.com/samlad/samlad/infer/quantile"

// Quantile is the q quantile of sorted values, linear between order
// statistics (Hyndman–Fan type 7, the engine's quantile too) (0 when there are none): the timing tables' median and p95.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return quantile.Linear(sorted, q)
}
