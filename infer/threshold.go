package infer

import (
	"math"
	"slices"

	"github.com/samlad/samlad/config"
	quantilepkg "github.com/samlad/samlad/infer/quantile"
)

// Rule 7, the pass/fail threshold, is set for a false-reject rate (config
// pipeline.false_reject_rate): the share of good parts a line accepts to
// reject. The good images' leave-one-out image scores are what a good frame
// scores. Their upper half is modelled as an exponential tail over the
// median: P(score > median + x) = 0.5 exp(-x / s), with s the median of the
// exceedances over the median divided by ln 2, so that the threshold
// median + s ln(0.5 / rate) is the score that share of good frames
// exceeds; times threshold_margin.
//
// Why this law: an image score is the largest of a few standardised parts,
// and the good images' scores have a long right tail, which a normal law
// fitted to them underestimates. Why a fit at all: forty
// good images say little about a 1% tail, and their largest score, the
// rule before, let one odd good image set a threshold above every
// anomaly. Medians keep such an image from moving the fit. The fit never
// goes below the good images' own (1 - rate) quantile at the rank below
// (lowerQuantile): where their tail is heavier than the law, the threshold
// rejects hardly more of them than the rate, and still no single image
// sets it.
// thresholdCheck reports how many good images score above the threshold,
// so that a tail heavier than the fit shows at enrolment.

// falseRejectThreshold returns the threshold at which a fraction rate of
// good frames, scored like scores, would fail. A rate outside (0, 0.5),
// which config validation refuses, counts as the default.
func falseRejectThreshold(scores []float64, rate float64) float64 {
	if rate <= 0 || rate >= 0.5 {
		rate = config.DefaultPipeline().FalseRejectRate
	}
	med := median(scores)
	var exc []float64
	for _, s := range scores {
		if s > med {
			exc = append(exc, s-med)
		}
	}
	scale := thresholdScaleFloor
	if len(exc) > 0 {
		scale = max(median(exc)/math.Ln2, thresholdScaleFloor)
	}
	return max(med+scale*math.Log(0.5/rate), lowerQuantile(scores, 1-rate))
}

// lowerQuantile is the q quantile of xs taken at the rank below (no
// interpolation toward a larger score): of 40 scores, 0.99 is the second
// largest, so one odd good image never sets the threshold.
func lowerQuantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return quantilepkg.Lower(s, q)
}

// thresholdScaleFloor keeps the tail's scale from collapsing when the good
// images score alike (units of the standardised scores).
const thresholdScaleFloor = 0.1

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
