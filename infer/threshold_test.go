package infer

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFalseRejectThresholdByHand(t *testing.T) {
	// median 2; deviations 2, 1, 0, 1, 98 -> median 1 -> spread 1.4826;
	// the 97.5% normal quantile is 1.959964.
	got := falseRejectThreshold([]float64{3, 0, 100, 1, 2}, 0.025)
	if want := 2 + 1.959964*1.4826; math.Abs(got-want) > 1e-5 {
		t.Errorf("threshold %.6f, want %.6f", got, want)
	}
	// A rate config validation refuses counts as the default.
	if a, b := falseRejectThreshold([]float64{0, 1, 3}, 0), falseRejectThreshold([]float64{0, 1, 3}, 0.01); a != b {
		t.Errorf("rate 0 gave %.4f, the default rate 0.01 %.4f", a, b)
	}
	// Alike scores: the spread floor holds.
	if got := falseRejectThreshold([]float64{1, 1, 1, 1}, 0.025); math.Abs(got-(1+1.959964*thresholdSpreadFloor)) > 1e-5 {
		t.Errorf("threshold of equal scores %.4f, want 1 + z * floor", got)
	}
}

// Fitted on 200 good scores, the threshold fails about the asked share of
// fresh good scores, and one wild good image hardly moves it.
func TestFalseRejectThresholdHoldsItsRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = 0.3 + 0.9*rng.NormFloat64()
		}
		return s
	}
	good := draw(200)
	fresh := draw(100000)
	for _, rate := range []float64{0.01, 0.05} {
		th := falseRejectThreshold(good, rate)
		got := float64(thresholdCheck(fresh, th)) / float64(len(fresh))
		if got < rate/2 || got > rate*2 {
			t.Errorf("rate %.2f: threshold %.3f fails %.4f of fresh good scores", rate, th, got)
		}
		wild := falseRejectThreshold(append(good[:len(good):len(good)], 40), rate)
		if math.Abs(wild-th) > 0.05 {
			t.Errorf("rate %.2f: one good score at 40 moved the threshold %.3f -> %.3f", rate, th, wild)
		}
	}
}
