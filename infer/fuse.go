package infer

import (
	"math"

	"github.com/samlad/samlad/config"
)

// terms are one frame's anomaly terms, each standardised by the good
// images' leave-one-out values and weighted; -Inf is a term that is off.
type terms struct {
	structural float64 // AMM: appearance of the matched objects
	logical    float64 // OMM: soft count of unmatched objects
	layout     float64 // layout step: position, count, missing, excess
	patch      float64 // patch memory: nearest good cell
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
// With layout.only the layout term alone decides.
func fuse(t terms, p config.Pipeline) float64 {
	all := [...]float64{t.structural, t.logical, t.layout, t.patch}
	if p.Layout.Only && !math.IsInf(t.layout, -1) {
		return t.layout
	}
	top := math.Inf(-1)
	var pos float64
	for _, v := range all {
		if math.IsNaN(v) {
			return v
		}
		top = max(top, v)
		if v > 0 && !math.IsInf(v, 1) {
			pos += v
		}
	}
	if p.Fusion == FusionSum && pos > 0 {
		return pos
	}
	return top
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
		zs, zl := a.zscores(*c, p)
		out[i] = terms{structural: zs, logical: zl, layout: math.Inf(-1), patch: math.Inf(-1)}
		if b.Layout != nil && i < len(b.Layout.LOOScores) {
			out[i].layout = b.Layout.LOOScores[i]
		}
		if b.Patch != nil && i < len(b.Patch.LOO) {
			out[i].patch = weighted(p.PatchWeight, b.Patch.z(b.Patch.LOO[i]))
		}
	}
	return out
}

// goodScores returns the good images' leave-one-out image scores.
func goodScores(b *Bank, p config.Pipeline) []float64 {
	ts := goodTerms(b, p)
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = round4(fuse(t, p))
	}
	return out
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
