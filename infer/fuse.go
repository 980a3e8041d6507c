package infer

import (
	"math"

	"github.com/samlad/samlad/config"
)

// terms are one frame's anomaly terms, each standardised by the good
// images' leave-one-out values and weighted by the config; -Inf is a term
// that is off.
type terms [numTerms]float64

// The terms, in the order of terms and TermWeights.
const (
	termStructural  = iota // AMM: appearance of the matched objects
	termLogical            // OMM: soft count of unmatched objects
	termObject             // layout: a part out of its place
	termMissing            // layout: a place left empty
	termExcess             // layout: a part too many
	termPatch              // patch memory: nearest good cell
	termComposition        // composition: cells per kind of surface against the nearest good image
	termPlace              // place: each cell against the nearest good images' cells at its place
	numTerms
)

// TermNames name the terms in reports.
var TermNames = [numTerms]string{"structural", "logical", "layout object", "layout missing", "layout excess", "patch", "composition", "place"}

// TermWeights multiply the terms: learned by the enrolment self-check
// (selfcheck.go), all 1 when it did not run.
type TermWeights [numTerms]float64

func unitWeights() TermWeights {
	var w TermWeights
	for i := range w {
		w[i] = 1
	}
	return w
}

// Fusion rules (config.Pipeline.Fusion).
const (
	FusionMax = "max"
	FusionSum = "sum"
)

// fuse forms the image score from the terms: the only place it is formed.
//   - max: the frame is as anomalous as its most anomalous term;
//   - sum: the sum of the terms' positive parts, so that two terms that
//     each see a little add up (the largest term when none is positive).
//
// With layout.only the layout terms alone decide.
func fuse(t terms, w TermWeights, p config.Pipeline) float64 {
	top, arg := math.Inf(-1), -1
	var pos float64
	for i, v := range t {
		if p.Layout.Only && (i < termObject || i > termExcess) {
			continue
		}
		if math.IsNaN(v) {
			return v
		}
		if w[i] == 0 || math.IsInf(v, -1) {
			continue
		}
		v *= w[i]
		if v > top {
			top, arg = v, i
		}
		if v > 0 && !math.IsInf(v, 1) {
			pos += v
		}
	}
	if arg < 0 {
		return 0
	}
	if p.Fusion == FusionSum && pos > 0 {
		return pos
	}
	return top
}

// deciding returns the term with the largest weighted value (-1: none).
func deciding(t terms, w TermWeights) int {
	top, arg := math.Inf(-1), -1
	for i, v := range t {
		if w[i] > 0 && !math.IsInf(v, -1) && v*w[i] > top {
			top, arg = v*w[i], i
		}
	}
	return arg
}

// weighted is w * z, or -Inf (off) when w is 0.
func weighted(w, z float64) float64 {
	if w == 0 {
		return math.Inf(-1)
	}
	return w * z
}

// goodTerms returns the good images' leave-one-out terms as a frame's are
// computed.
func goodTerms(b *Bank, p config.Pipeline) []terms {
	c := &b.Calib
	out := make([]terms, len(c.LOOStruct))
	for i := range out {
		a := &assessment{structural: c.LOOStruct[i], logical: c.LOOLogic[i]}
		t := &out[i]
		for j := range t {
			t[j] = math.Inf(-1)
		}
		t[termStructural], t[termLogical] = a.zscores(*c, p)
		if lb := b.Layout; lb != nil {
			t[termObject], t[termMissing], t[termExcess] = lb.z(&layoutParts{object: lb.LOOObject[i : i+1], missing: lb.LOOMissing[i], excess: lb.LOOExcess[i]}, p.Layout)
		}
		if b.Patch != nil {
			t[termPatch] = weighted(p.PatchWeight, b.Patch.z(b.Patch.LOO[i]))
			t[termPlace] = weighted(p.PlaceWeight, b.Patch.placeZ(b.Patch.PlaceLOO[i]))
		}
		if cm := b.Composition; cm != nil {
			t[termComposition] = weighted(p.CompositionWeight, cm.z(cm.LOO[i]))
		}
	}
	return out
}

// goodScores returns the good images' leave-one-out image scores.
func goodScores(b *Bank, p config.Pipeline) []float64 {
	ts := goodTerms(b, p)
	out := make([]float64, len(ts))
	w := b.weights(p)
	for i, t := range ts {
		out[i] = round4(fuse(t, w, p))
	}
	return out
}

// weights are the term weights the bank's self-check chose (all 1 when it
// was enrolled without pipeline.learn_weights).
func (b *Bank) weights(config.Pipeline) TermWeights {
	if b.SelfCheck == nil {
		return unitWeights()
	}
	return b.SelfCheck.Weights
}

// settleMap makes the map's maximum the image score, so that an evaluator
// that scores an image by its map's maximum agrees with the verdict: every
// term paints its own maximum into the map, which with fusion "max" is the
// score already; a summed score scales the painted heat up to it, and a
// score at or below 0 (nothing anomalous) leaves a flat map at the score.
func settleMap(m []float32, score float64) {
	if math.IsNaN(score) || len(m) == 0 {
		return
	}
	var top float32
	for _, v := range m {
		top = max(top, v)
	}
	switch {
	case score <= 0:
		for i := range m {
			m[i] = float32(score)
		}
	case top <= 0:
		for i := range m {
			m[i] = float32(score)
		}
	case float64(top) != score:
		s := float32(score) / top
		for i, v := range m {
			m[i] = v * s
		}
	}
}
