package infer

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
)

// TestChooseWeightsDropsNoisyTerm: a term that spreads widely on the good
// images and says nothing about the anomalies sets the threshold for every
// term under max fusion; the self-check's weights leave it out and
// keep the term that sees the anomalies.
func TestChooseWeightsDropsNoisyTerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	off := func() terms {
		var t terms
		for i := range t {
			t[i] = math.Inf(-1)
		}
		return t
	}
	var good []terms
	for range 40 {
		g := off()
		g[termStructural] = 4 * rng.NormFloat64() // the noisy term
		g[termLogical] = rng.NormFloat64()
		good = append(good, g)
	}
	var samples []synthSample
	for i := range 60 {
		s := off()
		s[termStructural] = 4 * rng.NormFloat64()
		s[termLogical] = 5 + rng.NormFloat64()*0.3
		samples = append(samples, synthSample{typ: i % 2, t: s})
	}
	p := config.DefaultPipeline()
	w, chosen := chooseWeights(good, samples, p)
	unit := catchScore(good, samples, unitWeights(), p)
	if w[termStructural] != 0 || w[termLogical] == 0 {
		t.Errorf("weights %v: want the noisy structural term at 0 and the logical one kept", w)
	}
	if chosen < 0.9 || unit > 0.5 {
		t.Errorf("catch score %.2f with the weights, %.2f with all 1s: want nearly all against few", chosen, unit)
	}
	// With nothing to choose from, every weight stays 1.
	if w, _ := chooseWeights(good, nil, p); w != unitWeights() {
		t.Errorf("no samples: weights %v, want all 1", w)
	}
}

// The enrol printout says the weights are the configured ones unless the
// self-check learned others, which multiply them.
func TestSelfCheckString(t *testing.T) {
	sc := &SelfCheck{Weights: unitWeights(), Rate: 0.01, Types: []SynthCatch{{Type: SynthMissing, Made: 4, Caught: 3}}, Unit: 0.6, Chosen: 0.6}
	if got := sc.String(); !strings.Contains(got, "missing part    75% (3 of 4)") || !strings.HasSuffix(got, "term weights: as configured (mean catch 60%)") {
		t.Errorf("unit weights:\n%s", got)
	}
	sc.Weights[termStructural], sc.Chosen = 0, 0.7
	if got := sc.String(); !strings.Contains(got, "term weights learned, times the configured ones: structural 0, logical 1") || !strings.HasSuffix(got, "(mean catch 70%; 60% as configured)") {
		t.Errorf("learned weights:\n%s", got)
	}
}
