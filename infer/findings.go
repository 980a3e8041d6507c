package infer

import (
	"cmp"
	"math"
	"slices"
)

// termsOf gathers a frame's standardised terms (step 10's outcomes) for
// the fusion (step 11); a term that is off is -Inf.
func (e *Engine) termsOf(a *assessment, lay *layoutOutcome, pt, pl *patchOutcome, ct *compOutcome) terms {
	var t terms
	for i := range t {
		t[i] = math.Inf(-1)
	}
	t[termStructural], t[termLogical] = a.zscores(e.cal, e.p)
	if lay != nil {
		t[termObject], t[termMissing], t[termExcess] = lay.zObj, lay.zMiss, lay.zExc
	}
	if pt != nil {
		t[termPatch] = pt.z
	}
	if pl != nil {
		t[termPlace] = pl.z
	}
	if ct != nil {
		t[termComposition] = ct.z
	}
	return t
}

// result builds step 12 for a frame of terms t fused into score: the
// anomaly map and the findings that explain it.
//
// The map is on the upsampled grid. Every term paints its own value where
// it comes from:
//   - structural: each scored query object's pixels carry their
//     structural z-score (Mahalanobis relative to the good images'
//     leave-one-out spread, clipped at 0);
//   - logical: objects that went to the dustbin (unmatched query
//     objects, and the explaining reference's unmatched objects painted at
//     their reference place: missing) carry the logical z-score scaled
//     by their dustbin mass;
//   - layout: the object out of place, the part too many, or the
//     reference's part left uncovered, with the step's z-score;
//   - patch memory and place: each feature cell's z-score;
//   - composition: the cells of the kind of surface that is too much or
//     too little (the nearest good image's cells where it is too little).
//
// Where several apply the largest wins, and settleMap makes the map's
// maximum the image score.
func (e *Engine) result(q *view, refs []*view, refIdx []int, a *assessment, lay *layoutOutcome, pt, pl *patchOutcome, ct *compOutcome, t terms, score float64, aligned *Alignment) *Result {
	zs, zl := t[termStructural], t[termLogical]
	w := e.weights
	res := &Result{Score: score, Threshold: round4(e.cal.Threshold),
		Structural: round4(weightedOr0(zs, w[termStructural])), Logical: round4(weightedOr0(zl, w[termLogical])),
		Layout: round4(max(weightedOr0(t[termObject], w[termObject]), weightedOr0(t[termMissing], w[termMissing]), weightedOr0(t[termExcess], w[termExcess]))),
		Patch:  round4(weightedOr0(t[termPatch], w[termPatch])), Place: round4(weightedOr0(t[termPlace], w[termPlace])), Composition: round4(weightedOr0(t[termComposition], w[termComposition])),
		MapW: q.W, MapH: q.H, Map: make([]float32, q.W*q.H)}
	// fail is not a verdict (daemon.Rule.Decide gives that) but what the
	// explanation needs: a score above the bank's threshold (or NaN) lists
	// the unmatched objects and what decided the score, not only the
	// structural findings.
	fail := score > e.cal.Threshold || math.IsNaN(score)
	if ws := w[termStructural]; ws > 0 {
		for i, v := range a.structMap {
			if v > 0 {
				res.Map[i] = float32(max(ws*e.p.StructuralWeight*(float64(v)-e.cal.StructMean)/e.cal.StructStd, 0))
			}
		}
	}
	// Logical candidates: the objects the explaining reference's matching
	// sent to the dustbin, on both sides, each with its share of the count.
	var cands []logicalCand
	if e.p.Mode != ModeLight {
		mt, ref := a.matchings[a.explain], refs[a.explain]
		cands = make([]logicalCand, 0, mt.M+mt.N)
		for i := 0; i < mt.M; i++ {
			w := 1.0
			if j := a.partners[i][a.explain]; j >= 0 {
				w = ref.Objects[j].relevance()
			}
			cands = append(cands, logicalCand{kind: KindExtra, obj: q.Objects[i], mass: w * mt.p(i, mt.N) * (1 - a.fragment[i]), unmatched: mt.Match[i] < 0, view: q, index: i})
		}
		for j := 0; j < mt.N; j++ {
			cands = append(cands, logicalCand{kind: KindMissing, obj: ref.Objects[j], mass: ref.Objects[j].relevance() * mt.p(mt.M, j), unmatched: !mt.RefMatched[j], view: ref, index: j})
		}
		maxMass := 0.0
		for _, c := range cands {
			maxMass = max(maxMass, c.mass)
		}
		if zl := zl * w[termLogical]; zl > 0 && maxMass > 0 {
			for i := range cands {
				c := &cands[i]
				c.score = zl * c.mass / maxMass
				paint(res.Map, c.view, c.index, float32(c.score))
			}
		} else {
			cands = cands[:0]
		}
	}
	if lay != nil {
		lay.paint(res.Map, q, w)
	}
	if pt != nil && w[termPatch] > 0 {
		pt.paint(res.Map, q.W, q.H, w[termPatch])
	}
	if pl != nil && w[termPlace] > 0 {
		pl.paint(res.Map, q.W, q.H, w[termPlace])
	}
	if ct != nil && w[termComposition] > 0 {
		ct.paint(res.Map, q.W, q.H, w[termComposition])
	}
	if aligned != nil {
		unalignMap(res.Map, q.W, q.H, e.p.InputSize, aligned.warp)
	}
	settleMap(res.Map, score)
	decided := deciding(t, w)
	res.Findings = e.findings(q, a, cands, fail, decided)
	if fail && decided >= termObject && decided <= termExcess {
		if kind, o, mw, ok := lay.finding(q, decided); ok {
			res.Findings = append([]Finding{e.finding(kind, o, mw, score)}, res.Findings...)
		}
	}
	if fail && decided == termPatch && pt.cell >= 0 {
		res.Findings = append([]Finding{pt.finding(e.p.InputSize, score)}, res.Findings...)
	}
	if fail && decided == termPlace && pl.cell >= 0 {
		res.Findings = append([]Finding{pl.finding(e.p.InputSize, score)}, res.Findings...)
	}
	if fail && decided == termComposition {
		if f, ok := ct.finding(e.p.InputSize, score); ok {
			res.Findings = append([]Finding{f}, res.Findings...)
		}
	}
	// The explaining reference comes first, so that an objects panel of
	// the matches against it shows what the findings say.
	order := make([]int, 0, len(refIdx))
	order = append(order, a.explain)
	for r := range refIdx {
		if r != a.explain {
			order = append(order, r)
		}
	}
	res.Matches = matchesOf(q, refs, a, order, e.p.InputSize)
	if aligned != nil {
		e.unalignBoxes(res, refIdx, order, aligned.warp)
	}
	res.terms = t
	res.References = make([]string, 0, len(refIdx))
	for _, r := range order {
		res.References = append(res.References, e.bank.Refs[refIdx[r]].Name)
	}
	return res
}

// weightedOr0 is w * v, or 0 for a term that is off.
func weightedOr0(v, w float64) float64 {
	if w == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return w * v
}

// finding is object o (on a map of width w) as a finding of kind with score.
func (e *Engine) finding(kind string, o Object, w int, score float64) Finding {
	size := e.p.InputSize
	return Finding{Kind: kind, Box: mapToInput(o.Box, w, size),
		Area: int(float64(o.Area) * float64(size*size) / float64(w*w)), Score: round4(score)}
}

type logicalCand struct {
	kind      string
	obj       Object
	mass      float64 // weighted dustbin mass
	score     float64
	unmatched bool  // left unmatched by the matching (not only partly in the dustbin)
	view      *view // the view obj is object index of
	index     int
}

// paint raises the map to at least v over object i of view v.
func paint(m []float32, vw *view, i int, v float32) {
	o := vw.Objects[i]
	lab := uint16(i + 1)
	for y := o.Box.Min.Y; y < o.Box.Max.Y; y++ {
		for x := o.Box.Min.X; x < o.Box.Max.X; x++ {
			if p := y*vw.W + x; vw.Labels[p] == lab {
				m[p] = max(m[p], v)
			}
		}
	}
}

// findings lists what explains the score:
//   - structural: a matched object whose structural z-score exceeds the
//     threshold;
//   - extra: an unmatched query object (dustbin mass >= 0.5), listed when
//     fail is set; it is mismatched (the wrong part) when it overlaps a
//     missing reference object, which it then explains;
//   - missing: an unmatched object of the nearest reference, not explained
//     by a mismatched one.
//
// With fail set (the score above the bank's threshold) and none of these,
// the image gets its most anomalous object: the unmatched object with the
// largest dustbin mass when the logical part decided, else the object with
// the largest structural score.
func (e *Engine) findings(q *view, a *assessment, all []logicalCand, fail bool, decided int) []Finding {
	var cands []logicalCand
	top := -1
	for i, c := range all {
		if c.mass >= 0.5 {
			cands = append(cands, c)
		}
		if c.unmatched && (top < 0 || c.mass > all[top].mass) {
			top = i
		}
	}
	var out []Finding
	size := e.p.InputSize
	add := func(kind string, o Object, score float64) {
		out = append(out, Finding{Kind: kind, Box: mapToInput(o.Box, q.W, size),
			Area: int(float64(o.Area) * float64(size*size) / float64(q.W*q.H)), Score: round4(score)})
	}
	best, bestZ := -1, math.Inf(-1)
	for i, o := range q.Objects {
		if a.objMax[i] == 0 {
			continue
		}
		z := e.p.StructuralWeight * (float64(a.objMax[i]) - e.cal.StructMean) / e.cal.StructStd
		if z > bestZ {
			best, bestZ = i, z
		}
		if a.matched[i] && z > e.cal.Threshold {
			add(KindStructural, o, z)
		}
	}
	if fail {
		used := make([]bool, len(cands))
		for i, c := range cands {
			if c.kind != KindExtra {
				continue
			}
			kind := KindExtra
			for j, m := range cands {
				if m.kind == KindMissing && !used[j] && m.obj.Box.Overlaps(c.obj.Box) {
					kind, used[j] = KindMismatched, true
					break
				}
			}
			used[i] = true
			add(kind, c.obj, c.score)
		}
		for j, m := range cands {
			if !used[j] {
				add(KindMissing, m.obj, m.score)
			}
		}
		switch {
		case len(out) > 0:
		case decided >= termObject:
		case decided == termLogical && top >= 0:
			add(all[top].kind, all[top].obj, all[top].score)
		case best >= 0:
			add(KindStructural, q.Objects[best], bestZ)
		}
	}
	slices.SortStableFunc(out, func(x, y Finding) int { return cmp.Compare(y.Score, x.Score) })
	return out
}

func round4(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	return math.Round(v*1e4) / 1e4
}

// finiteOr0 maps -Inf (light mode has no logical part) to 0 so results
// always encode as JSON.
func finiteOr0(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return v
}
