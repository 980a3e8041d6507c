package infer

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/samlad/samlad/config"
)

// The layout step's measurement of one frame against its nearest good
// images: object, missing and excess values (layout.go).

// layoutParts is the layout step's measurement of one query.
type layoutParts struct {
	object  []float64 // per query object
	missing float64
	// excess is the mean over the references of the largest left-over
	// value (layoutExcess); excessObj sums each query object's over them.
	excess    float64
	excessObj []float64
	// missObj is the nearest reference's object behind its uncoverage
	// (-1 when none), for findings.
	missObj int
	// uncover[ri][j] is reference refIdx[ri]'s object j's raw uncoverage
	// (NaN when not scored); only when asked for (calibration).
	uncover [][]float64
}

// layoutMeasure measures query objects qObjs with finished descriptors
// qDesc and their mirrors qMir (layoutMirrors; nil: no mirror term) on a
// mapW x mapH grid against the objects of references refIdx, with the
// step's settings cfg (the object and excess terms only when they have a
// weight).
func layoutMeasure(refs []Reference, lb *LayoutBank, refIdx []int, qObjs []Object, qDesc, qMir [][]float32, mapW, mapH int, cfg config.Layout, keep bool) *layoutParts {
	radius, object, excess := cfg.Radius, cfg.ObjectWeight > 0, cfg.ExcessWeight > 0
	m := len(qObjs)
	lp := &layoutParts{object: make([]float64, m), excessObj: make([]float64, m), missObj: -1}
	if keep {
		lp.uncover = make([][]float64, len(refIdx))
	}
	if len(refIdx) == 0 {
		return lp
	}
	minArea := int(math.Ceil(lb.MinArea * float64(mapW*mapH)))
	// place is a reference object's reach: its learned one unless
	// layout.radius sets one for every part.
	place := func(o Object) float64 {
		if radius == 0 {
			return float64(o.Reach)
		}
		return radius
	}
	// b is always the reference's object.
	within := func(scale float64) func(a, b Object) bool {
		return func(a, b Object) bool {
			r := place(b) * scale
			dx := float64(a.CX-b.CX) / float64(mapW)
			dy := float64(a.CY-b.CY) / float64(mapH)
			return dx*dx+dy*dy <= r*r
		}
	}
	near, reach := within(1), within(layoutExcessReach)
	own, other, mir := make([][]float64, m), make([][]float64, m), make([][]float64, m)
	for i := range own {
		own[i], other[i], mir[i] = make([]float64, len(refIdx)), make([]float64, len(refIdx)), make([]float64, len(refIdx))
	}
	var sim []float64
	for ri, r := range refIdx {
		// sim[i*n+j]: query object i's cosine to reference object j, which
		// every term reads.
		objs, rd := refs[r].Objects, lb.Desc[r]
		n := len(objs)
		sim = slices.Grow(sim[:0], m*n)[:m*n]
		for i := range qObjs {
			for j := range objs {
				sim[i*n+j] = float64(dot(qDesc[i], rd[j]))
			}
		}
		if object {
			for i, q := range qObjs {
				o1, o2, o3 := -1.0, -1.0, -1.0
				for j, o := range objs {
					if o.Area < minArea {
						continue
					}
					s := sim[i*n+j]
					if near(q, o) {
						o1 = max(o1, s)
						if qMir != nil {
							o3 = max(o3, float64(dot(qMir[i], rd[j])))
						}
					} else {
						o2 = max(o2, s)
					}
				}
				own[i][ri], other[i][ri], mir[i][ri] = o1, o2, o3
			}
		}
		miss := math.Inf(-1)
		if keep {
			lp.uncover[ri] = make([]float64, len(objs))
		}
		for j, o := range objs {
			if o.Weight < layoutStable || o.Area < minArea {
				if keep {
					lp.uncover[ri][j] = math.NaN()
				}
				continue
			}
			cover, pl := -1.0, place(o)
			for i, q := range qObjs {
				if near(q, o) {
					cover = max(cover, sim[i*n+j], sizeCover(q, o, pl))
				}
			}
			u := (1 - cover) / 2
			if keep {
				lp.uncover[ri][j] = u
			}
			if lb.UncoverStd != nil {
				u = (u - float64(lb.UncoverMean[r][j])) / float64(lb.UncoverStd[r][j])
			}
			if u > miss {
				miss = u
				if ri == 0 {
					lp.missObj = j
				}
			}
		}
		if math.IsInf(miss, -1) {
			miss = 0
		}
		lp.missing += miss / float64(len(refIdx))
		if excess {
			lp.excess += layoutExcess(lp.excessObj, qObjs, objs, sim, minArea, reach) / float64(len(refIdx))
		}
	}
	for i := range qObjs {
		if !object || qObjs[i].Area < minArea {
			continue
		}
		o, t := topMean(own[i], layoutTop), topMean(other[i], layoutTop)
		lp.object[i] = max(t-o, 0) + (1 - o)
		if qMir != nil {
			lp.object[i] += layoutMirrorWeight * max(topMean(mir[i], layoutTop)-o, 0)
		}
	}
	return lp
}

// layoutExcess measures the parts one reference (objects objs) leaves over
// in the query qObjs, given their cosines sim (query-major, sim[i*len(objs)
// + j]): each of the reference's objects claims at most one query object
// within reach, and each query object is claimed at most once, the most
// similar pairs first. A query object's excess is how much better it
// resembles the reference's best stable object (weight >= layoutStable)
// than what claimed it: max(like - max(claim, 0), 0), claim 0 when
// unclaimed. One part too many, or a part moved where the good image has
// none of its kind, resembles a stable part and is left over (or claimed
// by a floor or shadow segment it does not resemble); a left-over floor,
// rim or shadow segment resembles no stable part, and a segment the good
// image also has, stable or not, claims its like. It adds each query
// object's excess to perObj and returns the largest (0 when none).
func layoutExcess(perObj []float64, qObjs, objs []Object, sim []float64, minArea int, reach func(a, b Object) bool) float64 {
	n := len(objs)
	type pair struct {
		s    float64
		q, r int
	}
	var pairs []pair
	var stable []int
	for j, o := range objs {
		if o.Area < minArea {
			continue
		}
		if o.Weight >= layoutStable {
			stable = append(stable, j)
		}
		for i, q := range qObjs {
			if q.Area >= minArea && reach(q, o) {
				pairs = append(pairs, pair{sim[i*n+j], i, j})
			}
		}
	}
	if len(stable) == 0 {
		return 0
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(b.s, a.s) })
	claim := make([]float64, len(qObjs))
	claimed := make([]bool, len(qObjs))
	taken := make([]bool, len(objs))
	for _, p := range pairs {
		if !claimed[p.q] && !taken[p.r] {
			claimed[p.q], taken[p.r] = true, true
			claim[p.q] = max(p.s, 0)
		}
	}
	var worst float64
	for i, q := range qObjs {
		if q.Area < minArea {
			continue
		}
		like := -1.0
		for _, j := range stable {
			like = max(like, sim[i*n+j])
		}
		if v := like - claim[i]; v > 0 {
			perObj[i] += v
			worst = max(worst, v)
		}
	}
	return worst
}

// maxObject returns the largest object value and its object (-1 when
// there are no objects; the value is then 0).
func (lp *layoutParts) maxObject() (float64, int) {
	v, arg := 0.0, -1
	for i, x := range lp.object {
		if arg < 0 || x > v {
			v, arg = x, i
		}
	}
	return v, arg
}

// z returns the object, missing and excess values standardised and
// weighted by cfg (-Inf for a term of weight 0, which is left out).
func (lb *LayoutBank) z(lp *layoutParts, cfg config.Layout) (zObj, zMiss, zExc float64) {
	v, _ := lp.maxObject()
	weighted := func(w, x, mean, sd float64) float64 {
		if w == 0 {
			return math.Inf(-1)
		}
		return w * (x - mean) / sd
	}
	return weighted(cfg.ObjectWeight, v, lb.ObjectMean, lb.ObjectStd), weighted(cfg.MissingWeight, lp.missing, lb.MissingMean, lb.MissingStd),
		weighted(cfg.ExcessWeight, lp.excess, lb.ExcessMean, lb.ExcessStd)
}

// maxExcess returns the query object with the largest summed excess (-1
// when none has any).
func (lp *layoutParts) maxExcess() int {
	v, arg := 0.0, -1
	for i, x := range lp.excessObj {
		if x > v {
			v, arg = x, i
		}
	}
	return arg
}

// topMean is the mean of the largest ceil(frac * len(xs)) values of xs
// (-1 when xs is empty).
func topMean(xs []float64, frac float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := append([]float64(nil), xs...)
	sort.Sort(sort.Reverse(sort.Float64Slice(s)))
	n := max(1, int(math.Ceil(frac*float64(len(s)))))
	var t float64
	for _, x := range s[:n] {
		t += x
	}
	return t / float64(n)
}

// sizeCover is how well query object q fills the place of reference object
// o, whose reach is place, by size alone, on the cosine's scale [-1, 1]: 1
// for equal areas. A loose part (place from reachLoose, or none) gets -1:
// anywhere in the frame, some other part of its size would always cover it.
func sizeCover(q, o Object, place float64) float64 {
	if place <= 0 || place >= reachLoose || q.Area <= 0 || o.Area <= 0 {
		return -1
	}
	return 2*float64(min(q.Area, o.Area))/float64(max(q.Area, o.Area)) - 1
}
