package infer

import (
	"math"
	"sort"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// Modes of the AMM (config.Pipeline.Mode).
const (
	ModeFull  = "full"  // matched + unmatched + missing objects scored
	ModeLight = "light" // paper eq. 16: only unmatched query objects scored
)

// assessment is what matching and measurement say about one query.
type assessment struct {
	k          int
	matchings  []*matching
	unmatched  []float64 // per query object: mean weighted dustbin mass over the k references, less its fragment share
	weight     []float64 // per query object: mean weight of its partners
	matched    []bool    // per query object: matched in at least half the references
	partners   [][]int   // per query object, per reference: matched or nearest object
	structMap  []float32 // Mahalanobis distance on the scored objects' pixels
	objMax     []float32 // per query object: max of structMap over its pixels (0 if unscored)
	structural float64   // S: image structural value (max or top-1% mean of structMap)
	logical    float64   // L: soft count of unmatched query and reference objects, against the reference that leaves the fewest (countRefs)
	fragment   []float64 // per query object: its fragment share (fragmentShare)
	explain    int       // the reference, of the k, that leaves the fewest objects unmatched: the findings' reference

	// The call in progress, for matchTask and objectMapTask; cleared when
	// matchObjects (descriptors, storage) and measure (views) return.
	q       *view
	qDesc   [][]float32
	refs    []*view
	refDesc [][][]float32
	pr      params
	floats  []float64 // the matchings' storage, reference after reference
	ints    []int
	bools   []bool

	// Backing arrays for the usual small k and object counts, so that they
	// come with the assessment's own allocation.
	matchingsArr [4]*matching
	mtsArr       [4]matching
	partnersArr  [32][]int
	objMaxArr    [32]float32
	floatsArr    [2560]float64 // k = 4 with 16 objects on each side needs 2500
	intsArr      [256]int
	boolsArr     [96]bool
}

// matchTask and objectMapTask are the assessment's parallel steps: as
// pointers they pass to workpool.EachTask without allocating, where closures
// would cost an allocation each per frame.
type (
	matchTask     assessment
	objectMapTask assessment
)

// Do matches the query against reference r into matchings[r], in the
// slice of the shared storage that follows references 0..r-1.
func (t *matchTask) Do(r int) {
	a := (*assessment)(t)
	m := len(a.qDesc)
	var f0, i0, b0 int
	for p := range r {
		nf, ni, nb := matchSizes(m, len(a.refDesc[p]))
		f0, i0, b0 = f0+nf, i0+ni, b0+nb
	}
	nf, ni, nb := matchSizes(m, len(a.refDesc[r]))
	matchInto(a.matchings[r], a.floats[f0:f0+nf], a.ints[i0:i0+ni], a.bools[b0:b0+nb],
		a.qDesc, a.refDesc[r], a.pr.dustbin, a.pr.tau, a.pr.matchThreshold, a.pr.iters)
}

// Do measures query object i's structural map (skipped for matched objects
// in light mode).
func (t *objectMapTask) Do(i int) {
	a := (*assessment)(t)
	if a.pr.mode == ModeLight && a.matched[i] {
		return
	}
	a.objMax[i] = objectMap(a.q, i, a.refs, a.partners[i], a.pr.align, a.pr.eps, float32(1/a.scaleOf(i, a.refs, a.pr.structScale)), a.structMap)
}

// params are the engine settings the assessment needs, with calibrated
// values resolved.
type params struct {
	k              int
	dustbin        float64
	matchThreshold float64
	tau            float64
	iters          int
	mode           string
	align          string
	eps            float64
	score          string
	workers        int
	structScale    float64 // fallback object scale; 0 = raw distances (first calibration pass)
}

func paramsOf(p config.Pipeline, cal Calibration) params {
	return params{k: p.K, dustbin: pick(p.Dustbin, cal.Dustbin), matchThreshold: pick(p.MatchThreshold, cal.MatchThreshold),
		tau: p.MatchTemperature, iters: p.SinkhornIters, mode: p.Mode, align: p.Align, eps: p.Epsilon,
		score: p.Score, workers: workpool.Workers(p.Workers), structScale: cal.StructScale}
}

// pick returns the config value when set, else the calibrated one.
func pick(cfg, calibrated float64) float64 {
	if cfg != 0 {
		return cfg
	}
	return calibrated
}

// countRef is a reference the logical count matches against beyond the
// AMM's k: its objects and their descriptors, no feature maps.
type countRef struct {
	desc [][]float32
	objs []Object
}

// countRefs is how many nearest references the logical count is taken
// against (the AMM's k among them). The count is the fewest objects any
// one of them leaves unmatched: a part missing, extra or of the wrong kind
// is unmatched against every good image, while a good frame's odd segment
// or unusual pose is so against a few only, and more references give it
// more chances to find one that agrees. Matching descriptors costs little
// beside an AMM reference's upsampling.
const countRefs = 16

// unmatchedCount is the soft count of objects matching mt leaves in the
// dustbin against reference objects objs: the query's, each weighted by
// its partner's relevance and less its fragment share, and the
// reference's, each by its relevance.
func unmatchedCount(mt *matching, objs []Object, fragment []float64) float64 {
	var count float64
	for i := 0; i < mt.M; i++ {
		w := 1.0
		j := mt.Match[i]
		if j < 0 {
			j = mt.Nearest[i]
		}
		if j >= 0 {
			w = objs[j].relevance()
		}
		count += w * mt.p(i, mt.N) * (1 - fragment[i])
	}
	for j := 0; j < mt.N; j++ {
		count += objs[j].relevance() * mt.p(mt.M, j)
	}
	return count
}

// countScratch matches a query against the extra references in parallel
// (its do is the task), in storage reused from frame to frame.
type countScratch struct {
	floats   []float64
	ints     []int
	bools    []bool
	mts      []matching
	counts   []float64
	nf, ni   int
	nb       int
	qDesc    [][]float32
	extra    []countRef
	fragment []float64
	pr       params
}

// prepare sizes cs for matching qDesc against extra.
func (cs *countScratch) prepare(qDesc [][]float32, extra []countRef, fragment []float64, pr params) {
	var most int
	for _, c := range extra {
		most = max(most, len(c.desc))
	}
	n := len(extra)
	cs.nf, cs.ni, cs.nb = matchSizes(len(qDesc), most)
	cs.floats, cs.ints, cs.bools = grown(cs.floats, n*cs.nf), grown(cs.ints, n*cs.ni), grown(cs.bools, n*cs.nb)
	cs.mts, cs.counts = grown(cs.mts, n), grown(cs.counts, n)
	cs.qDesc, cs.extra, cs.fragment, cs.pr = qDesc, extra, fragment, pr
}

// Do counts what matching against extra reference x leaves unmatched.
func (cs *countScratch) Do(x int) {
	c := cs.extra[x]
	mt := &cs.mts[x]
	matchInto(mt, cs.floats[x*cs.nf:(x+1)*cs.nf], cs.ints[x*cs.ni:(x+1)*cs.ni], cs.bools[x*cs.nb:(x+1)*cs.nb],
		cs.qDesc, c.desc, cs.pr.dustbin, cs.pr.tau, cs.pr.matchThreshold, cs.pr.iters)
	cs.counts[x] = unmatchedCount(mt, c.objs, cs.fragment)
}

// grown is s resized to n, reusing its storage when it is large enough.
func grown[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// assess runs the OMM against each reference (step 8) and the AMM (step 9)
// into structMap.
func assess(q *view, qDesc [][]float32, refs []*view, refDesc [][][]float32, extra []countRef, cs *countScratch, pr params, structMap []float32) *assessment {
	a := matchObjects(q, qDesc, refs, refDesc, extra, cs, pr)
	a.measure(structMap)
	return a
}

// matchObjects runs the OMM against each reference (step 8) and takes the
// logical count, which also matches against the extra references, in cs
// (nil: fresh storage). The assessment holds the call's inputs until
// measure.
func matchObjects(q *view, qDesc [][]float32, refs []*view, refDesc [][][]float32, extra []countRef, cs *countScratch, pr params) *assessment {
	m, k := len(qDesc), len(refs)
	// Few allocations per frame: one slice per element type, shared by
	// the per-object values and every reference's matching.
	var nf, ni, nb int
	for r := range refs {
		f, i, b := matchSizes(m, len(refDesc[r]))
		nf, ni, nb = nf+f, ni+i, nb+b
	}
	a := &assessment{k: k, q: q, qDesc: qDesc, refs: refs, refDesc: refDesc, pr: pr}
	floats, ints, bools := inline(a.floatsArr[:], 3*m+nf), inline(a.intsArr[:], m*k+ni), inline(a.boolsArr[:], m+nb)
	a.unmatched, a.weight, a.matched = floats[:m:m], floats[m:2*m:2*m], bools[:m:m]
	fragment := floats[2*m : 3*m : 3*m]
	a.floats, a.ints, a.bools = floats[3*m:], ints[m*k:], bools[m:]
	defer func() { a.qDesc, a.refDesc, a.floats, a.ints, a.bools = nil, nil, nil, nil, nil }()
	a.matchings, a.partners, a.objMax = inline(a.matchingsArr[:], k), inline(a.partnersArr[:], m), inline(a.objMaxArr[:], m)
	mts := inline(a.mtsArr[:], k)
	for r := range a.matchings {
		a.matchings[r] = &mts[r]
	}
	workpool.EachTask(k, pr.workers, (*matchTask)(a))
	partners := ints[: m*k : m*k] // every object's row
	for i := 0; i < m; i++ {
		a.partners[i] = partners[i*k : (i+1)*k : (i+1)*k]
		var hits int
		for r, mt := range a.matchings {
			a.partners[i][r] = mt.Nearest[i]
			if mt.Match[i] >= 0 {
				a.partners[i][r] = mt.Match[i]
				hits++
			}
			w := 1.0
			if j := a.partners[i][r]; j >= 0 {
				w = refs[r].Objects[j].relevance()
			}
			a.weight[i] += w / float64(k)
			a.unmatched[i] += w * mt.p(i, mt.N) / float64(k)
		}
		a.matched[i] = 2*hits >= k
	}
	for i, u := range a.unmatched {
		if u > 0 {
			fragment[i] = fragmentShare(q, i, a.matched, a.unmatched)
		}
	}
	for i := range a.unmatched {
		a.unmatched[i] *= 1 - fragment[i]
	}
	a.fragment = fragment
	a.logical = math.Inf(1)
	for r, mt := range a.matchings {
		if c := unmatchedCount(mt, refs[r].Objects, fragment); c < a.logical {
			a.logical, a.explain = c, r
		}
	}
	if len(extra) > 0 {
		if cs == nil {
			cs = &countScratch{}
		}
		cs.prepare(qDesc, extra, fragment, pr)
		workpool.EachTask(len(extra), pr.workers, cs)
		for _, c := range cs.counts {
			a.logical = min(a.logical, c)
		}
	}
	return a
}

// measure runs the AMM (step 9): the structural map of the matched
// objects into structMap and its image value.
func (a *assessment) measure(structMap []float32) {
	defer func() { a.q, a.refs = nil, nil }()
	a.structMap = structMap
	clear(a.structMap)
	workpool.EachTask(len(a.partners), a.pr.workers, (*objectMapTask)(a))
	a.structural = reduceMap(a.structMap, a.pr.score)
}

// inline returns arr[:n] (zeroed, as arr is fresh) when it is long enough, else a new slice.
func inline[T any](arr []T, n int) []T {
	if n <= len(arr) {
		return arr[:n:n]
	}
	return make([]T, n)
}

// scaleOf is query object i's structural scale: the mean StructScale of
// its partners, the fallback where a partner has none, 1 before
// calibration has any.
func (a *assessment) scaleOf(i int, refs []*view, fallback float64) float64 {
	if fallback <= 0 {
		return 1
	}
	var s float64
	for r, j := range a.partners[i] {
		v := fallback
		if j >= 0 && refs[r].Objects[j].StructScale > 0 {
			v = float64(refs[r].Objects[j].StructScale)
		}
		s += v / float64(len(refs))
	}
	return s
}

// Image score reductions (config.Pipeline.Score).
const (
	ScoreMax  = "max"
	ScoreTopK = "topk" // mean of the top 1% of the map: robust to single-pixel spikes
)

func reduceMap(m []float32, how string) float64 {
	if how != ScoreTopK {
		var mx float32
		for _, v := range m {
			mx = max(mx, v)
		}
		return float64(mx)
	}
	n := max(1, len(m)/100)
	top := make([]float32, 0, n+1)
	for _, v := range m {
		if v <= 0 || (len(top) == n && v <= top[n-1]) {
			continue
		}
		i := sort.Search(len(top), func(i int) bool { return top[i] < v })
		top = append(top, 0)
		copy(top[i+1:], top[i:])
		top[i] = v
		if len(top) > n {
			top = top[:n]
		}
	}
	var s float64
	for _, v := range top {
		s += float64(v)
	}
	return s / float64(n)
}

// zscores turns the assessment into the normalised structural and logical
// scores (see calibrate.go for the rule), each times its configured weight.
func (a *assessment) zscores(cal Calibration, p config.Pipeline) (zs, zl float64) {
	zs = p.StructuralWeight * (a.structural - cal.StructMean) / cal.StructStd
	if p.Mode == ModeLight {
		return zs, math.Inf(-1)
	}
	return zs, p.LogicalWeight * (a.logical - cal.LogicMean) / cal.LogicStd
}

// relevance is how much an object's absence or excess counts: its
// stability to the power relevancePower, so that objects found in nearly
// every good image count (nearly) fully and segments that come and go
// count little.
func (o *Object) relevance() float64 { return math.Pow(float64(o.Weight), relevancePower) }

// relevancePower is high so that background segments of middling
// stability (rims, floors, shadows) count little against stable parts:
// their coming and going would otherwise dominate the good frames' spread
// of the logical count. Chosen on the tuning kinds (eval/results/tuning).
const relevancePower = 6

// Fragments. A segmenter cuts some parts in pieces (a screw at a highlight,
// a washer and its hole, a stain on a head); each piece then looks like an
// extra object, and good frames collect a soft count of them by chance. An
// unmatched piece that shares much of its outline with a matched object of
// comparable size is taken as part of that object: its dustbin mass is
// scaled down by fragmentShare. It keeps its structural map (the AMM still
// measures it). A part lying on a large matched region (a compartment
// floor) is not a fragment of it, hence the size ratio; a separate extra
// part touches nothing matched, hence the outline share.
const (
	// fragmentOutline is the share of a piece's outline on matched
	// neighbours from which it counts as a fragment entirely; below, it
	// counts in proportion.
	fragmentOutline = 0.25
	// fragmentRatio bounds the neighbour's area, in multiples of the
	// piece's.
	fragmentRatio = 5
	// fragmentMatched is the largest dustbin mass of a neighbour that
	// counts as matched.
	fragmentMatched = 0.1
)

// fragmentShare returns how much of query object i is a fragment of a
// matched object: min(1, outline share on matched neighbours /
// fragmentOutline).
func fragmentShare(q *view, i int, matched []bool, unmatched []float64) float64 {
	o := q.Objects[i]
	lab := uint16(i + 1)
	var outline, shared int
	for y := o.Box.Min.Y; y < o.Box.Max.Y; y++ {
		for x := o.Box.Min.X; x < o.Box.Max.X; x++ {
			if q.Labels[y*q.W+x] != lab {
				continue
			}
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				xx, yy := x+d[0], y+d[1]
				if xx < 0 || yy < 0 || xx >= q.W || yy >= q.H {
					outline++
					continue
				}
				l := q.Labels[yy*q.W+xx]
				if l == lab {
					continue
				}
				outline++
				if l != 0 && matched[l-1] && unmatched[l-1] <= fragmentMatched && q.Objects[l-1].Area <= fragmentRatio*o.Area {
					shared++
				}
			}
		}
	}
	if outline == 0 {
		return 0
	}
	return min(1, float64(shared)/float64(outline)/fragmentOutline)
}
