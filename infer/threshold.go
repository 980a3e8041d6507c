package infer

import (
	"math"
	"slices"

	"github.com/samlad/samlad/config"
	"gonum.org/v1/gonum/stat/distuv"
)

// Rule 7, the pass/fail threshold, is set for a false-reject rate (config
// pipeline.false_reject_rate): the share of good parts a line accepts to
// reject. The good images' leave-one-out image scores are what a good frame
// scores; the threshold is the (1 - rate) quantile of a normal law fitted
// to them robustly (median, and 1.4826 x the median absolute deviation),
// times threshold_margin.
//
// Why a fit and not the largest leave-one-out score: forty good images say
// little about a 1% tail, and one of them with a segmentation hiccup would
// set the threshold for every frame after it (a good bag at 4.7 spreads
// did, and let every anomalous bag pass). The robust fit ignores such an
// outlier; thresholdCheck reports how many good images the threshold
// rejects, so that a tail heavier than the fit shows at enrolment.
const (
	// madToSD turns a median absolute deviation into a normal spread.
	madToSD = 1.4826
	// thresholdSpreadFloor keeps the fitted spread from collapsing when
	// the good images score alike (units of the standardised scores).
	thresholdSpreadFloor = 0.25
)

// falseRejectThreshold returns the threshold at which a fraction rate of
// good frames, scored like scores, would fail. A rate outside (0, 0.5),
// which config validation refuses, counts as the default.
func falseRejectThreshold(scores []float64, rate float64) float64 {
	if rate <= 0 || rate >= 0.5 {
		rate = config.DefaultPipeline().FalseRejectRate
	}
	med := median(scores)
	dev := make([]float64, len(scores))
	for i, s := range scores {
		dev[i] = math.Abs(s - med)
	}
	spread := max(madToSD*median(dev), thresholdSpreadFloor)
	return med + distuv.UnitNormal.Quantile(1-rate)*spread
}

// thresholdCheck counts the scores above the threshold: the good images
// of the bank that a frame like them would fail.
func thresholdCheck(scores []float64, threshold float64) (above int) {
	for _, s := range scores {
		if s > threshold {
			above++
		}
	}
	return above
}

// median of xs (xs is not changed).
func median(xs []float64) float64 {
	return quantile(slices.Clone(xs), 0.5)
}

// goodScores returns the good images' leave-one-out image scores.
func goodScores(b *Bank, p config.Pipeline) []float64 {
	return b.Calib.LOOScores
}
