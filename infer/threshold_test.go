package infer

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFalseRejectThresholdByHand(t *testing.T) {
	// Scores 0..8: median 4; exceedances 1, 2, 3, 4 -> median 2.5 -> scale
	// 2.5 / ln 2; at rate 0.05 the threshold is 4 + scale * ln(0.5 / 0.05).
	scores := []float64{5, 0, 8, 1, 4, 2, 7, 3, 6}
	want := 4 + 2.5/math.Ln2*math.Log(10)
	if got := falseRejectThreshold(scores, 0.05); math.Abs(got-want) > 1e-9 {
		t.Errorf("threshold %.6f, want %.6f", got, want)
	}
	// One wild good image does not move it: the fit uses medians.
	scores[2] = 1000
	if got := falseRejectThreshold(scores, 0.05); math.Abs(got-want) > 1e-9 {
		t.Errorf("with one score at 1000: threshold %.6f, want %.6f", got, want)
	}
	// A tail heavier than the law: the threshold stays at or above the
	// good scores' own quantile at the rank below, the second largest of 40
	// at 1%.
	heavy := make([]float64, 40)
	for i := range heavy {
		heavy[i] = float64(i) / 40
	}
	heavy[38], heavy[39] = 5, 6
	if got := falseRejectThreshold(heavy, 0.01); got != 5 {
		t.Errorf("heavy tail: threshold %.4f, want the second largest score 5", got)
	}
	// A rate config validation refuses counts as the default.
	if a, b := falseRejectThreshold(scores, 0), falseRejectThreshold(scores, 0.01); a != b {
		t.Errorf("rate 0 gave %.4f, the default rate 0.01 %.4f", a, b)
	}
	// Alike scores: the scale floor holds.
	if got := falseRejectThreshold([]float64{1, 1, 1, 1}, 0.05); math.Abs(got-(1+thresholdScaleFloor*math.Log(10))) > 1e-9 {
		t.Errorf("threshold of equal scores %.4f, want 1 + floor * ln 10", got)
	}
}

// Fitted on 40 good scores shaped like image scores (the larger of two
// standardised parts), the threshold fails no more than about the asked
// share of fresh good scores, averaged over many banks.
func TestFalseRejectThresholdHoldsItsRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = max(rng.NormFloat64(), rng.NormFloat64())
		}
		return s
	}
	fresh := draw(20000)
	for _, rate := range []float64{0.01, 0.05} {
		var got float64
		const banks = 50
		for range banks {
			th := falseRejectThreshold(draw(40), rate)
			got += float64(thresholdCheck(fresh, th)) / float64(len(fresh)) / banks
		}
		t.Logf("rate %.2f: fresh good scores above the threshold %.4f", rate, got)
		if got > 1.5*rate || got < rate/5 {
			t.Errorf("rate %.2f: the threshold fails %.4f of fresh good scores", rate, got)
		}
	}
}
