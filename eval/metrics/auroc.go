// Package metrics computes the anomaly-detection metrics reported by
// samlab eval: image AUROC, pixel AUROC and AU-sPRO as defined by the
// official MVTec LOCO AD evaluation.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// ErrOneClass is returned when a ROC needs both classes and one is absent.
var ErrOneClass = errors.New("need at least one anomalous and one normal sample")

// AUROC is the area under the ROC curve of scores (higher = more anomalous)
// against labels (true = anomalous). It equals the probability that a random
// anomalous sample scores above a random normal one, ties counting one half
// (Mann-Whitney U with mid-ranks), which is what the trapezoid over the
// tie-collapsed ROC gives too.
func AUROC(scores []float64, labels []bool) (float64, error) {
	if len(scores) != len(labels) {
		return 0, fmt.Errorf("auroc: %d scores but %d labels", len(scores), len(labels))
	}
	idx := make([]int, len(scores))
	var nPos, nNeg float64
	for i, s := range scores {
		if math.IsNaN(s) {
			return 0, fmt.Errorf("auroc: score %d is NaN", i)
		}
		idx[i] = i
		if labels[i] {
			nPos++
		} else {
			nNeg++
		}
	}
	if nPos == 0 || nNeg == 0 {
		return 0, fmt.Errorf("auroc over %d anomalous and %d normal samples: %w", int(nPos), int(nNeg), ErrOneClass)
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Sum of the mid-ranks (1-based) of the anomalous samples.
	var rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if labels[idx[k]] {
				rankSum += mid
			}
		}
		i = j
	}
	return (rankSum - nPos*(nPos+1)/2) / (nPos * nNeg), nil
}

// ROC returns the tie-collapsed ROC curve from (0,0) to (1,1): one point
// per distinct score, thresholds descending.
func ROC(scores []float64, labels []bool) (fpr, tpr []float64, err error) {
	if len(scores) != len(labels) {
		return nil, nil, fmt.Errorf("roc: %d scores but %d labels", len(scores), len(labels))
	}
	idx := make([]int, len(scores))
	var nPos, nNeg float64
	for i := range scores {
		idx[i] = i
		if labels[i] {
			nPos++
		} else {
			nNeg++
		}
	}
	if nPos == 0 || nNeg == 0 {
		return nil, nil, fmt.Errorf("roc: %w", ErrOneClass)
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	fpr, tpr = []float64{0}, []float64{0}
	var tp, fp float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if labels[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		fpr, tpr = append(fpr, fp/nNeg), append(tpr, tp/nPos)
		i = j
	}
	return fpr, tpr, nil
}
