package infer

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/samlad/samlad/config"
)

// The enrolment self-check: synthetic anomalies made from the good images
// (synth.go), each inspected against the other good images, tell before
// production what the station will catch, per type, at the false-reject
// rate. They also weigh the terms: a term that is noisy on this product's
// good images, or blind to its synthetic anomalies, raises the threshold
// for nothing, and the weights that catch the most synthetic anomalies at
// the calibrated threshold are kept. Only good images and anomalies made
// from them steer the weights.

const (
	// selfCheckImages bounds the good images anomalies are made from.
	selfCheckImages = 32
	// selfCheckMargin is how much more of the synthetic anomalies (mean
	// catch rate over the types) other weights must catch to replace all
	// 1s, so that noise in a small bank does not pick them.
	selfCheckMargin = 0.03
	// selfCheckWideRate is the second false-reject rate the weights are
	// judged at, beside the configured one: at 1% the threshold rests on
	// the one or two highest good images, at 5% on more of them.
	selfCheckWideRate = 0.05
)

// weightSteps are the values each term's weight is chosen from.
var weightSteps = [...]float64{0, 0.5, 1}

// SelfCheck is what the self-check found and the weights it chose.
type SelfCheck struct {
	Weights TermWeights
	// Rate is the false-reject rate Caught is counted at.
	Rate  float64
	Types []SynthCatch
	// Unit is the mean catch rate over the types with every weight 1,
	// Chosen with Weights, both at Rate and at selfCheckWideRate averaged.
	Unit, Chosen float64
}

// SynthCatch is one synthetic type's count.
type SynthCatch struct {
	Type         string
	Made, Caught int
}

type synthSample struct {
	typ int
	t   terms
}

// selfCheck runs the check on an enrolled bank (its SelfCheck unset).
func selfCheck(ctx context.Context, be *Backend, p config.Pipeline, bank *Bank) (*SelfCheck, error) {
	eng, err := NewEngine(be, bank, p)
	if err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}
	syn := newSynthesizer(bank, uint64(len(bank.Refs)))
	n := len(bank.Refs)
	step := max(1, n/selfCheckImages)
	var samples []synthSample
	ix := scanIndex(bank.Refs)
	for r := 0; r < n; r += step {
		peers := ix.others(r, p.K)
		for ti, typ := range SynthTypes {
			img := syn.make(typ, r, peers)
			if img == nil {
				continue
			}
			res, err := eng.inspect(ctx, img, r)
			if err != nil {
				return nil, fmt.Errorf("self-check: %s from %s: %w", typ, bank.Refs[r].Name, err)
			}
			samples = append(samples, synthSample{ti, res.terms})
		}
	}
	good := goodTerms(bank, p)
	sc := &SelfCheck{Weights: unitWeights(), Rate: p.FalseRejectRate}
	sc.Unit = catchScore(good, samples, sc.Weights, p)
	sc.Chosen = sc.Unit
	if p.LearnWeights {
		sc.Weights, sc.Chosen = chooseWeights(good, samples, p)
	}
	thr := falseRejectThreshold(fusedScores(good, sc.Weights, p), p.FalseRejectRate)
	sc.Types = make([]SynthCatch, len(SynthTypes))
	for i, typ := range SynthTypes {
		sc.Types[i].Type = typ
	}
	for _, s := range samples {
		c := &sc.Types[s.typ]
		c.Made++
		if fuse(s.t, sc.Weights, p) > thr {
			c.Caught++
		}
	}
	return sc, nil
}

// chooseWeights returns the term weights (each from weightSteps) that
// catch the most synthetic anomalies (catchScore) and their catch score;
// every weight 1 unless others catch selfCheckMargin more.
func chooseWeights(good []terms, samples []synthSample, p config.Pipeline) (TermWeights, float64) {
	best := unitWeights()
	unit := catchScore(good, samples, best, p)
	top := unit
	if len(samples) == 0 {
		return best, top
	}
	var w TermWeights
	var walk func(i int)
	walk = func(i int) {
		if i == numTerms {
			if v := catchScore(good, samples, w, p); v > top && v >= unit+selfCheckMargin {
				best, top = w, v
			}
			return
		}
		for _, s := range weightSteps {
			w[i] = s
			walk(i + 1)
		}
	}
	walk(0)
	return best, top
}

// catchScore is the mean over the synthetic types of the share caught, at
// the configured false-reject rate and at selfCheckWideRate, averaged.
func catchScore(good []terms, samples []synthSample, w TermWeights, p config.Pipeline) float64 {
	scores := fusedScores(good, w, p)
	if len(scores) == 0 {
		return 0
	}
	var total float64
	for _, rate := range [...]float64{p.FalseRejectRate, selfCheckWideRate} {
		thr := falseRejectThreshold(scores, rate)
		var made, caught [16]float64
		for _, s := range samples {
			made[s.typ]++
			if fuse(s.t, w, p) > thr {
				caught[s.typ]++
			}
		}
		var sum, types float64
		for i := range SynthTypes {
			if made[i] > 0 {
				sum += caught[i] / made[i]
				types++
			}
		}
		if types > 0 {
			total += sum / types / 2
		}
	}
	return total
}

func fusedScores(ts []terms, w TermWeights, p config.Pipeline) []float64 {
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = fuse(t, w, p)
		if math.IsNaN(out[i]) {
			out[i] = math.Inf(1)
		}
	}
	return out
}

// String is the self-check as enroll prints it.
func (sc *SelfCheck) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "self-check on synthetic anomalies made from the good images, at %g%% false rejects:", 100*sc.Rate)
	for _, t := range sc.Types {
		if t.Made == 0 {
			fmt.Fprintf(&b, "\n  %-14s none could be made", t.Type)
			continue
		}
		fmt.Fprintf(&b, "\n  %-14s %3.0f%% (%d of %d)", t.Type, 100*float64(t.Caught)/float64(t.Made), t.Caught, t.Made)
	}
	if sc.Weights == unitWeights() {
		fmt.Fprintf(&b, "\nterm weights: as configured (mean catch %.0f%%)", 100*sc.Unit)
		return b.String()
	}
	var ws []string
	for i, w := range sc.Weights {
		ws = append(ws, fmt.Sprintf("%s %g", TermNames[i], w))
	}
	fmt.Fprintf(&b, "\nterm weights learned, times the configured ones: %s (mean catch %.0f%%; %.0f%% as configured)", strings.Join(ws, ", "), 100*sc.Chosen, 100*sc.Unit)
	return b.String()
}
