package infer

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sort"

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

// layoutDescLen is the length of a layout descriptor of c channels, with
// outline histograms when mirror is on.
func layoutDescLen(c, grid int, mirror bool) int {
	n := grid*grid*(c+1) + layoutFine*layoutFine
	if mirror {
		n += grid * grid * layoutEdgeBins
	}
	return n
}

// layoutDescribe returns the raw layout descriptor of each object of v:
// that of its part (layoutGroups with radius, a fraction of the map side).
// Over the union of the part's boxes: per cell of a grid x grid split, the
// mean feature vector over the cell's pixels that lie in any object and the
// fraction of those pixels in the part; then per cell of a layoutFine x
// layoutFine split, the fraction of its area in the part; then, with
// mirror, per cell of the grid the part outline's orientation histogram
// (layoutEdges). Pooling features
// over all objects in the box rather than the part's alone makes the
// descriptor depend on what is there rather than on how the segmenter cut
// it; the occupancies keep the part's shape. Pixels outside every object
// are left out of the features: the engine computes query features only
// inside objects.
func layoutDescribe(v *view, grid int, radius float64, mirror bool) [][]float32 {
	c := v.C
	cells := grid * grid
	fineCells := layoutFine * layoutFine
	part := layoutGroups(v.Objects, radius*float64(v.W))
	byPart := map[int][]float32{}
	out := make([][]float32, len(v.Objects))
	cnt := make([]int, cells)
	in := make([]int, cells)
	fine := make([]int, fineCells)
	for i := range v.Objects {
		p := part[i]
		if d, ok := byPart[p]; ok {
			out[i] = slices.Clone(d)
			continue
		}
		var box image.Rectangle
		for j, o := range v.Objects {
			if part[j] == p {
				box = box.Union(o.Box)
			}
		}
		d := make([]float32, layoutDescLen(c, grid, mirror))
		clear(cnt)
		clear(in)
		clear(fine)
		bw, bh := box.Dx(), box.Dy()
		for y := box.Min.Y; y < box.Max.Y; y++ {
			gy, fy := (y-box.Min.Y)*grid/bh, (y-box.Min.Y)*layoutFine/bh
			for x := box.Min.X; x < box.Max.X; x++ {
				l := v.Labels[y*v.W+x]
				if l == 0 {
					continue
				}
				cell := gy*grid + (x-box.Min.X)*grid/bw
				cnt[cell]++
				if part[l-1] == p {
					in[cell]++
					fine[fy*layoutFine+(x-box.Min.X)*layoutFine/bw]++
				}
				dst := d[cell*c : (cell+1)*c]
				for ch, f := range v.at(x, y) {
					dst[ch] += f
				}
			}
		}
		for cell, n := range cnt {
			if n == 0 {
				continue
			}
			inv := 1 / float32(n)
			for ch := range c {
				d[cell*c+ch] *= inv
			}
			d[cells*c+cell] = layoutOccupancy * float32(in[cell]) * inv
		}
		// A fine cell spans bw*bh/fineCells pixels (fractions of pixels
		// where the box does not divide evenly).
		cellArea := float32(bw*bh) / float32(fineCells)
		for k, n := range fine {
			d[cells*(c+1)+k] = layoutFineWeight * min(1, float32(n)/cellArea)
		}
		if mirror {
			layoutEdges(d[cells*(c+1)+fineCells:], v, part, p, box, grid)
		}
		byPart[p] = d
		out[i] = d
	}
	return out
}

// groupRadiusLearned groups parts when layout.radius is learned: objects
// are grouped before the reaches are known.
const groupRadiusLearned = 0.1

// groupRadius is the radius layoutDescribe groups objects within when
// they are grouped.
func groupRadius(l config.Layout) float64 {
	if l.Radius == 0 {
		return groupRadiusLearned
	}
	return l.Radius
}

// layoutGroups links objects whose centroids lie within lim map pixels of
// each other, transitively, and returns each object's part: the smallest
// index among its objects. With lim 0 each object is a part of its own.
func layoutGroups(objs []Object, lim float64) []int {
	n := len(objs)
	part := make([]int, n)
	for i := range part {
		part[i] = i
	}
	if lim <= 0 {
		return part
	}
	root := func(i int) int {
		for part[i] != i {
			part[i] = part[part[i]]
			i = part[i]
		}
		return i
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			dx := float64(objs[i].CX - objs[j].CX)
			dy := float64(objs[i].CY - objs[j].CY)
			if dx*dx+dy*dy <= lim*lim {
				a, b := root(i), root(j)
				part[max(a, b)] = min(a, b)
			}
		}
	}
	for i := range part {
		part[i] = root(i)
	}
	return part
}

// layoutEdges writes into dst, per cell of a grid x grid split of box, the
// histogram of the part's outline orientations: the Sobel gradient of the
// part's mask (objects of part p), unsigned, each pixel adding its
// magnitude times max(cos 2(a - a_b), 0)^2 to bin b of angle a_b (as the
// built-in features bin image gradients), each cell's histogram scaled to norm
// layoutEdgeWeight (plus 1 in the denominator, so that a cell with little
// outline stays small). Unlike the backend's features, it mirrors exactly
// (layoutMirror).
func layoutEdges(dst []float32, v *view, part []int, p int, box image.Rectangle, grid int) {
	in := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= v.W || y >= v.H {
			return 0
		}
		if l := v.Labels[y*v.W+x]; l != 0 && part[l-1] == p {
			return 1
		}
		return 0
	}
	var cos2, sin2 [layoutEdgeBins]float64
	for b := range layoutEdgeBins {
		phi := float64(b) * math.Pi / layoutEdgeBins
		cos2[b], sin2[b] = math.Cos(2*phi), math.Sin(2*phi)
	}
	bw, bh := box.Dx(), box.Dy()
	// The outline lies on the box's border pixels and one pixel beyond.
	for y := box.Min.Y - 1; y <= box.Max.Y; y++ {
		cy := min(max((y-box.Min.Y)*grid/bh, 0), grid-1)
		for x := box.Min.X - 1; x <= box.Max.X; x++ {
			gx := in(x+1, y-1) + 2*in(x+1, y) + in(x+1, y+1) - in(x-1, y-1) - 2*in(x-1, y) - in(x-1, y+1)
			gy := in(x-1, y+1) + 2*in(x, y+1) + in(x+1, y+1) - in(x-1, y-1) - 2*in(x, y-1) - in(x+1, y-1)
			m2 := gx*gx + gy*gy
			if m2 == 0 {
				continue
			}
			m := math.Sqrt(m2)
			cell := cy*grid + min(max((x-box.Min.X)*grid/bw, 0), grid-1)
			for b := range layoutEdgeBins {
				if c := ((gx*gx-gy*gy)*cos2[b] + 2*gx*gy*sin2[b]) / m2; c > 0 {
					dst[cell*layoutEdgeBins+b] += float32(m * c * c)
				}
			}
		}
	}
	for cell := range grid * grid {
		h := dst[cell*layoutEdgeBins : (cell+1)*layoutEdgeBins]
		var ss float64
		for _, x := range h {
			ss += float64(x) * float64(x)
		}
		s := float32(layoutEdgeWeight / (math.Sqrt(ss) + 1))
		for b := range h {
			h[b] *= s
		}
	}
}

// layoutMirror returns the raw descriptor d (of c channels, grid) of the
// part mirrored left-right, as far as it is known: the occupancies,
// silhouette and outline histograms mirror exactly (columns reversed, the
// orientation bin of angle a moved to that of pi - a); the features are
// left as they are, since only the backend knows how its channels mirror.
// The mirror term thus compares the part's shape with and without a
// mirror, on the same features.
func layoutMirror(d []float32, c, grid int) []float32 {
	out := slices.Clone(d)
	cells := grid * grid
	occ, fine, edges := d[cells*c:], d[cells*(c+1):], d[cells*(c+1)+layoutFine*layoutFine:]
	oOcc, oFine, oEdges := out[cells*c:], out[cells*(c+1):], out[cells*(c+1)+layoutFine*layoutFine:]
	for gy := range grid {
		for gx := range grid {
			src, dst := gy*grid+gx, gy*grid+grid-1-gx
			oOcc[dst] = occ[src]
			for b := range layoutEdgeBins {
				oEdges[dst*layoutEdgeBins+b] = edges[src*layoutEdgeBins+(layoutEdgeBins-b)%layoutEdgeBins]
			}
		}
	}
	for y := range layoutFine {
		for x := range layoutFine {
			oFine[y*layoutFine+layoutFine-1-x] = fine[y*layoutFine+x]
		}
	}
	return out
}

// layoutMirrors returns the finished descriptors of the parts of raw
// (not yet finished; with outline histograms) mirrored, or nil when the
// bank's step does not tell mirror images apart.
func layoutMirrors(raw [][]float32, lb *LayoutBank) [][]float32 {
	if !lb.Mirror {
		return nil
	}
	grid, mean := lb.Grid, lb.Mean
	c := (len(mean)-layoutFine*layoutFine)/(grid*grid) - 1 - layoutEdgeBins
	out := make([][]float32, len(raw))
	for i, d := range raw {
		out[i] = layoutMirror(d, c, grid)
	}
	return finishLayout(out, mean)
}

// finishLayout centres raw descriptors by mean and L2-normalises them.
func finishLayout(raw [][]float32, mean []float32) [][]float32 {
	for _, d := range raw {
		for i := range d {
			d[i] -= mean[i]
		}
		normalize(d)
	}
	return raw
}

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

// layoutRefs is how many references the step compares with.
func layoutRefs(cfg config.Layout, available int) int {
	if cfg.Refs <= 0 {
		return available
	}
	return min(cfg.Refs, available)
}

// layoutEnrol collects the references' raw descriptors during Enroll; nil
// when the step is off (its methods are then no-ops). While layout.group is
// learned, the descriptors of the parts as segmented (raw) and as grouped
// (grouped) are both kept until finish decides.
type layoutEnrol struct {
	cfg          config.Layout
	raw, grouped [][][]float32
}

func newLayoutEnrol(cfg config.Layout, n int) *layoutEnrol {
	if !cfg.Enabled {
		return nil
	}
	le := &layoutEnrol{cfg: cfg, raw: make([][][]float32, n)}
	if cfg.Group == config.Auto {
		le.grouped = make([][][]float32, n)
	}
	return le
}

// describe records reference i's descriptors from its upsampled view with
// objects (concurrent calls with different i are safe).
func (le *layoutEnrol) describe(i int, v *view) {
	if le == nil {
		return
	}
	grid, mirror := le.cfg.Grid, le.cfg.Mirror != config.Off
	switch le.cfg.Group {
	case config.On:
		le.raw[i] = layoutDescribe(v, grid, groupRadius(le.cfg), mirror)
	case config.Off:
		le.raw[i] = layoutDescribe(v, grid, 0, mirror)
	default:
		le.raw[i] = layoutDescribe(v, grid, 0, mirror)
		le.grouped[i] = layoutDescribe(v, grid, groupRadius(le.cfg), mirror)
	}
}

// chooseGrouping keeps the descriptors of the grouping enrolment learned
// (or layout.group set) and returns the radius they were grouped within.
func (le *layoutEnrol) chooseGrouping(bank *Bank) float64 {
	radius := groupRadius(le.cfg)
	switch le.cfg.Group {
	case config.On:
		bank.Rules.Group = GroupRule{On: true, Radius: radius}
		return radius
	case config.Off:
		bank.Rules.Group = GroupRule{Radius: radius}
		return 0
	}
	bank.Rules.Group = learnGrouping(bank.Refs, radius)
	grouped := le.grouped
	le.grouped = nil
	if !bank.Rules.Group.On {
		return 0
	}
	le.raw = grouped
	return radius
}

// finish centres the descriptors and calibrates by leave-one-out; the bank
// must hold its objects' weights (calibrate). It returns nil when off.
func (le *layoutEnrol) finish(bank *Bank, workers int) *LayoutBank {
	if le == nil {
		return nil
	}
	groupR := le.chooseGrouping(bank)
	var mean []float32
	var cnt int
	for _, ds := range le.raw {
		for _, d := range ds {
			if mean == nil {
				mean = make([]float32, len(d))
			}
			for i, x := range d {
				mean[i] += x
			}
			cnt++
		}
	}
	for i := range mean {
		mean[i] /= float32(max(cnt, 1))
	}
	lb := &LayoutBank{Mean: mean, Desc: make([][][]float32, len(le.raw)), Grid: le.cfg.Grid, Mirror: le.cfg.Mirror != config.Off, GroupRadius: groupR}
	var areas []float64
	for _, r := range bank.Refs {
		for _, o := range r.Objects {
			areas = append(areas, float64(o.Area)/float64(r.MapW*r.MapH))
		}
	}
	if len(areas) > 0 {
		lb.MinArea = layoutAreaFrac * quantile(areas, 0.5)
	}
	n := len(bank.Refs)
	L := layoutRefs(le.cfg, n-1)
	ix := scanIndex(bank.Refs)
	bank.Rules.Mirror = MirrorRule{On: lb.Mirror}
	if le.cfg.Mirror == config.Auto {
		bank.Rules.Mirror = learnMirror(bank.Refs, le.raw, lb, ix)
		if lb.Mirror = bank.Rules.Mirror.On; !lb.Mirror {
			le.dropOutlines(bank.Refs[0].Feat.C)
			lb.Mean = lb.Mean[:layoutDescLen(bank.Refs[0].Feat.C, lb.Grid, false)]
		}
	}
	mir := make([][][]float32, len(le.raw))
	for r, ds := range le.raw {
		mir[r] = layoutMirrors(ds, lb)
		lb.Desc[r] = finishLayout(ds, lb.Mean)
	}
	obj, miss, exc := make([]float64, n), make([]float64, n), make([]float64, n)
	peers := make([][]int, n)
	raw := make([]*layoutParts, n)
	parallelFor(n, workers, func(i int) {
		r := &bank.Refs[i]
		peers[i] = ix.others(i, L)
		raw[i] = layoutMeasure(bank.Refs, lb, peers[i], r.Objects, lb.Desc[i], mir[i], r.MapW, r.MapH, le.cfg, true)
		obj[i], _ = raw[i].maxObject()
		exc[i] = raw[i].excess
	})
	sums := uncoverSums(bank.Refs, peers, raw)
	lb.UncoverMean, lb.UncoverStd = uncoverStats(sums)
	parallelFor(n, workers, func(i int) {
		r := &bank.Refs[i]
		miss[i] = layoutMeasure(bank.Refs, lb.withoutOwn(sums, peers[i], raw[i].uncover), peers[i], r.Objects, lb.Desc[i], mir[i], r.MapW, r.MapH, le.cfg, false).missing
	})
	lb.ObjectMean, lb.ObjectStd = meanStd(obj)
	lb.MissingMean, lb.MissingStd = meanStd(miss)
	lb.ExcessMean, lb.ExcessStd = meanStd(exc)
	lb.ObjectStd = max(lb.ObjectStd, layoutSDFloor*math.Abs(lb.ObjectMean), 1e-9)
	lb.MissingStd = max(lb.MissingStd, layoutSDFloor*math.Abs(lb.MissingMean), 1e-9)
	lb.ExcessStd = max(lb.ExcessStd, layoutSDFloor*math.Abs(lb.ExcessMean), 1e-9)
	lb.LOOObject, lb.LOOMissing, lb.LOOExcess = obj, miss, exc
	return lb
}

// dropOutlines cuts the outline histograms (the descriptors' tail) from
// the raw descriptors of c channels, once enrolment has learned that
// mirror images do not matter.
func (le *layoutEnrol) dropOutlines(c int) {
	n := layoutDescLen(c, le.cfg.Grid, false)
	for _, ds := range le.raw {
		for j, d := range ds {
			ds[j] = d[:n:n]
		}
	}
}

// uncoverAcc sums one reference object's uncoverage over the good images
// that compared with it.
type uncoverAcc struct{ s, ss, n float64 }

// uncoverSums sums each reference object's uncoverage over the good images
// that compared with it (peers[i]: the references image i compared with).
func uncoverSums(refs []Reference, peers [][]int, raw []*layoutParts) [][]uncoverAcc {
	sums := make([][]uncoverAcc, len(refs))
	for r := range refs {
		sums[r] = make([]uncoverAcc, len(refs[r].Objects))
	}
	for i, idx := range peers {
		for ri, r := range idx {
			for j, u := range raw[i].uncover[ri] {
				if !math.IsNaN(u) {
					a := &sums[r][j]
					a.s, a.ss, a.n = a.s+u, a.ss+u*u, a.n+1
				}
			}
		}
	}
	return sums
}

// uncoverRow returns the mean and spread (at least layoutUncoverFloor) of
// one reference's objects' uncoverage; objects never scored get 0 and the
// floor.
func uncoverRow(as []uncoverAcc) (mean, sd []float32) {
	mean, sd = make([]float32, len(as)), make([]float32, len(as))
	for j, a := range as {
		m, v := 0.0, 0.0
		if a.n > 0 {
			m = a.s / a.n
			v = max(a.ss/a.n-m*m, 0)
		}
		mean[j], sd[j] = float32(m), float32(max(math.Sqrt(v), layoutUncoverFloor))
	}
	return mean, sd
}

// uncoverStats returns each reference object's uncoverage statistics.
func uncoverStats(sums [][]uncoverAcc) (mean, sd [][]float32) {
	mean, sd = make([][]float32, len(sums)), make([][]float32, len(sums))
	for r, as := range sums {
		mean[r], sd[r] = uncoverRow(as)
	}
	return mean, sd
}

// withoutOwn returns lb with the uncoverage statistics of the references
// peers recomputed without own, one good image's uncoverage of them: that
// image's missing term is then scored as a new frame's would be, against
// statistics it took no part in.
func (lb *LayoutBank) withoutOwn(sums [][]uncoverAcc, peers []int, own [][]float64) *LayoutBank {
	c := *lb
	c.UncoverMean, c.UncoverStd = slices.Clone(lb.UncoverMean), slices.Clone(lb.UncoverStd)
	for ri, r := range peers {
		as := slices.Clone(sums[r])
		for j, u := range own[ri] {
			if !math.IsNaN(u) {
				a := &as[j]
				a.s, a.ss, a.n = a.s-u, a.ss-u*u, a.n-1
			}
		}
		c.UncoverMean[r], c.UncoverStd[r] = uncoverRow(as)
	}
	return &c
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
