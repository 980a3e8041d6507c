package infer

import (
	"errors"
	"fmt"
	"image"

	"github.com/samlad/samlad/config"
)

// The layout step (config pipeline.layout) scores fixed layouts (grids,
// trays with compartments, kits), where what matters is which object sits
// where. The OMM pairs objects by appearance, so a part moved to another
// slot still finds a partner; this step asks per position instead, over the
// layout.refs nearest good images:
//
//   - Parts: objects whose centroids lie within layout.radius of each other
//     are one part (layoutGroups), since a segmenter often cuts a thin part
//     into strokes. A part's descriptor (layoutDescribe) keeps its shape and
//     orientation: pooled features and occupancy per grid cell, a finer
//     silhouette and, with layout.mirror, outline orientation histograms.
//     Objects smaller than layoutAreaFrac of the good images' median area
//     are left out on both sides.
//   - Object value: own/other are the best cosines to a reference's objects
//     near / far from the object's centroid, averaged over the best
//     layoutTop of the references; max(other - own, 0) + (1 - own), plus
//     with layout.mirror layoutMirrorWeight * max(mirror - own, 0). A moved
//     or wrong part resembles another position more, a damaged one nothing
//     well, a mirrored one its own position better when mirrored back.
//   - Missing value: the largest standardised uncoverage of a reference's
//     stable objects (uncoverStats), averaged over the references. A part
//     is covered by a query object near its place that looks like it or,
//     where the part has a fixed place, is of its size (sizeCover): a
//     place holding another kind of part is not empty, which the object
//     value tells.
//   - Excess value (layout.excess_weight): what is left over after each
//     reference object claims one query object (layoutExcess).
//
// Each value is standardised by its leave-one-out mean and spread over the
// good images and is one term of the fusion (fuse.go: object, missing,
// excess).
//
// This file holds the step's bank and its call per frame; layoutdesc.go the
// descriptors, layoutmeasure.go the values of one frame, layoutenrol.go the
// enrolment and its leave-one-out calibration.

const (
	// layoutStable is the weight from which a reference object is expected
	// in every normal frame.
	layoutStable = 0.5
	// layoutTop is the fraction of the references whose similarities are
	// averaged (the best ones): a part need resemble some good images' parts,
	// not all. Chosen on the tuning kinds (eval/results/tuning).
	layoutTop = 0.1
	// layoutSDFloor keeps a spread from collapsing on small banks: at least
	// this fraction of the mean.
	layoutSDFloor = 0.05
	// layoutOccupancy scales the occupancy entries to the order of a
	// standardised feature channel.
	layoutOccupancy = 2
	// layoutAreaFrac sets the smallest object scored: this fraction of the
	// median area of the good images' objects. Smaller segments (crumbs,
	// fragments of a stroke) vary from image to image and would make every
	// good image look odd somewhere.
	layoutAreaFrac = 0.5
	// layoutUncoverFloor is the smallest spread of a reference object's
	// uncoverage (a value in [0, 1]).
	layoutUncoverFloor = 0.05
	// layoutFine is the side of the silhouette grid and layoutFineWeight
	// the value of a fully covered silhouette cell; chosen on the tuning
	// kinds (eval/results/tuning).
	layoutFine       = 8
	layoutFineWeight = 3
	// layoutEdgeBins is the number of orientation bins of the outline
	// histograms and layoutEdgeWeight the norm of a cell's histogram. The
	// backend's features mirror in a way only the backend knows (its
	// orientation channels), the outline's exactly, so the mirror term
	// rests on the silhouette and these histograms. They cost logical
	// ranking where parts may turn freely (the box), hence layout.mirror.
	layoutEdgeBins   = 8
	layoutEdgeWeight = 20
	// layoutMirrorWeight scales the mirror term, which catches mirrored
	// parts; chosen on the tuning kinds (eval/results/tuning).
	layoutMirrorWeight = 2

	// layoutExcessReach is how far, in layout.radius, a good image's object
	// reaches to claim a part in the excess term: a part anywhere in its
	// compartment reaches most of the good image's parts there without
	// reaching far into the neighbours' (where a moved part would be claimed
	// from its old compartment). Chosen on the tuning kinds
	// (eval/results/tuning).
	layoutExcessReach = 1.5
)

// LayoutBank is what the layout step keeps in the bank.
type LayoutBank struct {
	// Mean is the mean raw descriptor of the good images' objects.
	Mean []float32
	// Desc[r][j] is reference r's object j's finished descriptor.
	Desc [][][]float32
	// Leave-one-out mean and spread of the object, missing and excess
	// values.
	ObjectMean, ObjectStd   float64
	MissingMean, MissingStd float64
	ExcessMean, ExcessStd   float64
	// LOOObject, LOOMissing and LOOExcess are the good images' leave-one-out
	// object, missing and excess values, in the order of the bank's
	// references.
	LOOObject, LOOMissing, LOOExcess []float64
	// MinArea (fraction of the map) is the smallest object the step
	// scores: half the median area of the good images' objects.
	MinArea float64
	// Grid is the descriptor's grid (layout.grid); 0 in banks enrolled
	// before parts were grouped, whose descriptors no longer fit.
	Grid int
	// Mirror says the descriptors hold outline histograms and the step
	// scores mirrored parts (layout.mirror).
	Mirror bool
	// GroupRadius is the radius (fraction of the map side) within which
	// objects are one part; 0 when they are not grouped (layout.group).
	GroupRadius float64
	// UncoverMean[r][j] and UncoverStd[r][j] are the leave-one-out mean
	// and spread of reference r's stable object j's uncoverage over the
	// other good images; a missing part counts by how far its uncoverage
	// lies above what good images leave (a thin part the segmenter often
	// loses counts less).
	UncoverMean, UncoverStd [][]float32
}

// layoutRefs is how many references the step compares with.
func layoutRefs(cfg config.Layout, available int) int {
	if cfg.Refs <= 0 {
		return available
	}
	return min(cfg.Refs, available)
}

// layoutOutcome is the layout step's terms for one frame.
type layoutOutcome struct {
	zObj, zMiss, zExc float64 // weighted by the config, -Inf when off
	worst, extra      int     // query objects behind zObj and zExc (-1: none)
	missing           *Object // the nearest reference's object behind zMiss (nil: none)
	missingW          int     // its map width
}

// layoutTerm measures the frame's objects with the layout step against
// its references from near (the retrieval, without exclude >= 0); nil
// when the bank has no layout calibration.
func (e *Engine) layoutTerm(q *view, near []int, exclude int) *layoutOutcome {
	lb := e.bank.Layout
	if lb == nil {
		return nil
	}
	cfg := e.p.Layout
	refIdx := e.layoutRefIdx(near, exclude)
	qRaw := layoutDescribe(q, lb.Grid, lb.GroupRadius, lb.Mirror)
	qMir := layoutMirrors(qRaw, lb)
	qDesc := finishLayout(qRaw, lb.Mean)
	lp := layoutMeasure(e.bank.Refs, lb, refIdx, q.Objects, qDesc, qMir, q.W, q.H, cfg, false)
	lo := &layoutOutcome{extra: lp.maxExcess()}
	lo.zObj, lo.zMiss, lo.zExc = lb.z(lp, cfg)
	_, lo.worst = lp.maxObject()
	if lp.missObj >= 0 {
		r := &e.bank.Refs[refIdx[0]]
		lo.missing, lo.missingW = &r.Objects[lp.missObj], r.MapW
	}
	return lo
}

// paint marks the objects behind the object and excess terms, and the
// reference's part left uncovered at its place, with their values
// weighted by w.
func (lo *layoutOutcome) paint(m []float32, q *view, w TermWeights) {
	if v := lo.zObj * w[termObject]; lo.worst >= 0 && v > 0 {
		paint(m, q, lo.worst, float32(v))
	}
	if v := lo.zExc * w[termExcess]; lo.extra >= 0 && v > 0 {
		paint(m, q, lo.extra, float32(v))
	}
	if v := lo.zMiss * w[termMissing]; lo.missing != nil && v > 0 && lo.missingW == q.W {
		b := lo.missing.Box.Intersect(image.Rect(0, 0, q.W, q.H))
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				m[y*q.W+x] = max(m[y*q.W+x], float32(v))
			}
		}
	}
}

// finding is the object behind layout term t (ok false when none).
func (lo *layoutOutcome) finding(q *view, t int) (kind string, o Object, w int, ok bool) {
	switch {
	case t == termObject && lo.worst >= 0:
		return KindMismatched, q.Objects[lo.worst], q.W, true
	case t == termExcess && lo.extra >= 0:
		return KindExtra, q.Objects[lo.extra], q.W, true
	case t == termMissing && lo.missing != nil:
		return KindMissing, *lo.missing, lo.missingW, true
	}
	return "", Object{}, 0, false
}

// layoutKey is the part of the layout config a bank is bound to: nothing
// when the step is off, so that its other keys may change freely then.
func layoutKey(cfg config.Layout) config.Layout {
	if !cfg.Enabled {
		return config.Layout{}
	}
	return cfg
}

// validate checks that a decoded layout calibration fits the references,
// so that a well-checksummed but inconsistent bank cannot make inspection
// panic (nil: no layout step).
func (lb *LayoutBank) validate(refs []Reference) error {
	if lb == nil {
		return nil
	}
	if len(refs) > 0 && (lb.Grid <= 0 || len(lb.Mean) != layoutDescLen(refs[0].Feat.C, lb.Grid, lb.Mirror)) {
		return errors.New("layout: descriptors do not fit the bank's layout settings (an older samlad, before parts were grouped or mirror images told apart); re-enrol with `samlad enroll`")
	}
	if !(lb.GroupRadius >= 0 && lb.GroupRadius <= 1) {
		return fmt.Errorf("layout: group radius %g outside [0, 1]", lb.GroupRadius)
	}
	if len(lb.Desc) != len(refs) {
		return fmt.Errorf("layout: descriptors for %d references, bank holds %d", len(lb.Desc), len(refs))
	}
	for r, ds := range lb.Desc {
		if len(ds) != len(refs[r].Objects) {
			return fmt.Errorf("layout: reference %d (%s): %d descriptors for %d objects", r, refs[r].Name, len(ds), len(refs[r].Objects))
		}
		for _, d := range ds {
			if len(d) != len(lb.Mean) {
				return fmt.Errorf("layout: reference %d (%s): malformed descriptor", r, refs[r].Name)
			}
		}
	}
	if len(lb.LOOObject) != len(refs) || len(lb.LOOMissing) != len(refs) || len(lb.LOOExcess) != len(refs) {
		return fmt.Errorf("layout: leave-one-out values for %d references, bank holds %d; re-enrol with `samlad enroll`", len(lb.LOOObject), len(refs))
	}
	if len(lb.UncoverMean) != len(refs) || len(lb.UncoverStd) != len(refs) {
		return fmt.Errorf("layout: uncoverage statistics for %d and %d references, bank holds %d", len(lb.UncoverMean), len(lb.UncoverStd), len(refs))
	}
	for r := range refs {
		if len(lb.UncoverMean[r]) != len(refs[r].Objects) || len(lb.UncoverStd[r]) != len(refs[r].Objects) {
			return fmt.Errorf("layout: reference %d (%s): uncoverage statistics do not fit its %d objects", r, refs[r].Name, len(refs[r].Objects))
		}
		for _, sd := range lb.UncoverStd[r] {
			if !(sd > 0) {
				return fmt.Errorf("layout: reference %d (%s): uncoverage spread must be > 0", r, refs[r].Name)
			}
		}
	}
	if !(lb.ObjectStd > 0) || !(lb.MissingStd > 0) || !(lb.ExcessStd > 0) {
		return errors.New("layout: calibration spreads must be > 0")
	}
	return nil
}
