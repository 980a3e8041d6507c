package infer

import (
	"image"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
)

func TestTopMean(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		frac float64
		want float64
	}{
		{[]float64{0.1, 0.9, 0.5, 0.7}, 0.25, 0.9},
		{[]float64{0.1, 0.9, 0.5, 0.7}, 0.5, 0.8},
		{[]float64{0.1, 0.9, 0.5, 0.7, 0.3}, 0.25, 0.8}, // ceil(1.25) = 2
		{nil, 0.25, -1},
	} {
		if got := topMean(c.xs, c.frac); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("topMean(%v, %g) = %g, want %g", c.xs, c.frac, got, c.want)
		}
	}
}

// basis returns the i-th basis vector of length n.
func basis(i, n int) []float32 {
	v := make([]float32, n)
	v[i] = 1
	return v
}

// TestLayoutMeasureByHand: two references hold objects A at the left and B
// at the right (orthogonal descriptors). A query with A left and B right is
// normal (object values 0); one with B left and A right is swapped (value
// 1 - own + other - own = 1 + 1 = 2); one without its right object leaves
// B uncovered (missing (1 - (-1)) / 2 = 1), one with another kind of part
// there does not. A query whose left object
// (descriptor C, like nothing) is A when mirrored back gets the mirror
// term: 0 + (1 - 0) + layoutMirrorWeight * (1 - 0).
func TestLayoutMeasureByHand(t *testing.T) {
	const w = 100
	obj := func(cx int) Object {
		return Object{Box: image.Rect(cx-5, 45, cx+5, 55), Area: 100, CX: float32(cx), CY: 50, Weight: 1}
	}
	a, b := basis(0, 3), basis(1, 3)
	refs := []Reference{{Objects: []Object{obj(25), obj(75)}}, {Objects: []Object{obj(26), obj(74)}}}
	lb := &LayoutBank{Desc: [][][]float32{{a, b}, {a, b}}, MinArea: 0.001}
	m := func(objs []Object, desc [][]float32) *layoutParts {
		return layoutMeasure(refs, lb, []int{0, 1}, objs, desc, desc, w, w, byHandLayout(), false)
	}
	normal := m([]Object{obj(24), obj(76)}, [][]float32{a, b})
	swapped := m([]Object{obj(24), obj(76)}, [][]float32{b, a})
	missing := m([]Object{obj(24)}, [][]float32{a})
	if v, _ := normal.maxObject(); v != 0 || normal.missing != 0 {
		t.Errorf("normal: object %g, missing %g, want 0, 0", v, normal.missing)
	}
	if v, _ := swapped.maxObject(); v != 2 {
		t.Errorf("swapped: object %g, want 2", v)
	}
	if v, _ := missing.maxObject(); v != 0 || missing.missing != 1 {
		t.Errorf("missing: object %g, missing %g, want 0, 1", v, missing.missing)
	}
	c := basis(2, 3)
	mirrored := layoutMeasure(refs, lb, []int{0, 1}, []Object{obj(24), obj(76)}, [][]float32{c, b}, [][]float32{a, b}, w, w, byHandLayout(), false)
	if v, arg := mirrored.maxObject(); v != 1+layoutMirrorWeight || arg != 0 {
		t.Errorf("mirrored: object %d value %g, want 0 and %g", arg, v, 1+float64(layoutMirrorWeight))
	}
	// A part of another kind (C) where B belongs is not a missing part
	// (the object value tells it): a fixed place is covered by a part of
	// its size, fully when equal, half when half; a loose part is covered
	// only by its like, here not at all (cosine 0: uncoverage 0.5).
	if got := m([]Object{obj(24), obj(76)}, [][]float32{a, c}).missing; got != 0 {
		t.Errorf("another kind of part in place: missing %g, want 0", got)
	}
	half := obj(76)
	half.Area = 50
	if got := m([]Object{obj(24), half}, [][]float32{a, c}).missing; got != 0.5 {
		t.Errorf("another kind of half the size in place: missing %g, want 0.5", got)
	}
	loose := byHandLayout()
	loose.Radius = reachLoose
	if got := layoutMeasure(refs, lb, []int{0, 1}, []Object{obj(24), obj(76)}, [][]float32{a, c}, nil, w, w, loose, false).missing; got != 0.5 {
		t.Errorf("another kind of part, loose parts: missing %g, want 0.5", got)
	}
	// Uncoverage standardised per reference object: B is left uncovered
	// by good images now and then (mean 0.5, spread 0.25), so leaving it
	// uncovered (1) counts (1 - 0.5) / 0.25 = 2; covering it counts
	// (0 - 0.5) / 0.25 = -2, below A's (0 - 0) / 1 = 0.
	lb.UncoverMean = [][]float32{{0, 0.5}, {0, 0.5}}
	lb.UncoverStd = [][]float32{{1, 0.25}, {1, 0.25}}
	if got := m([]Object{obj(24)}, [][]float32{a}).missing; got != 2 {
		t.Errorf("missing, standardised: %g, want 2", got)
	}
	if got := m([]Object{obj(24), obj(76)}, [][]float32{a, b}).missing; got != 0 {
		t.Errorf("normal, standardised: %g, want 0", got)
	}
	lb.UncoverMean, lb.UncoverStd = nil, nil
	// Objects under MinArea are not scored.
	lb.MinArea = 0.02
	if v, _ := m([]Object{obj(24), obj(76)}, [][]float32{b, a}).maxObject(); v != 0 {
		t.Errorf("objects under min area: value %g, want 0", v)
	}
}

// TestLayoutExcessByHand: two references hold a stable part A at the left
// and B at the right (orthogonal descriptors), reference 0 also an
// unstable floor segment F in the middle (descriptor C, like neither).
// Within reach (1.5 x radius 0.15 = 22.5 of 100 pixels) each reference
// object claims one query object. A second A beside the first is left
// over in both references: excess like 1 - claim 0 = 1, summed 2. A
// second A in the middle is claimed by F in reference 0 (cosine 0) and by
// nothing in reference 1: excess 1 either way. A floor segment C in the
// middle resembles no stable part: excess 0. Without the excess weight
// nothing is measured.
func TestLayoutExcessByHand(t *testing.T) {
	const w = 100
	obj := func(cx int, weight float32) Object {
		return Object{Box: image.Rect(cx-5, 45, cx+5, 55), Area: 100, CX: float32(cx), CY: 50, Weight: weight}
	}
	a, b, c := basis(0, 3), basis(1, 3), basis(2, 3)
	refs := []Reference{{Objects: []Object{obj(25, 1), obj(75, 1), obj(50, 0.2)}}, {Objects: []Object{obj(26, 1), obj(74, 1)}}}
	lb := &LayoutBank{Desc: [][][]float32{{a, b, c}, {a, b}}, MinArea: 0.001}
	cfg := byHandLayout()
	m := func(objs []Object, desc [][]float32) *layoutParts {
		return layoutMeasure(refs, lb, []int{0, 1}, objs, desc, nil, w, w, cfg, false)
	}
	for _, tc := range []struct {
		name   string
		objs   []Object
		desc   [][]float32
		excess float64
		worst  int
	}{
		{"normal", []Object{obj(24, 0), obj(76, 0)}, [][]float32{a, b}, 0, -1},
		{"second A beside the first", []Object{obj(24, 0), obj(76, 0), obj(34, 0)}, [][]float32{a, b, a}, 1, -2},
		{"second A in the middle", []Object{obj(24, 0), obj(76, 0), obj(50, 0)}, [][]float32{a, b, a}, 1, 2},
		{"floor segment in the middle", []Object{obj(24, 0), obj(76, 0), obj(50, 0)}, [][]float32{a, b, c}, 0, -1},
	} {
		lp := m(tc.objs, tc.desc)
		var sum float64
		for _, x := range lp.excessObj {
			sum += x
		}
		if lp.excess != tc.excess || sum != 2*tc.excess {
			t.Errorf("%s: excess %g (objects %v), want %g (summed %g)", tc.name, lp.excess, lp.excessObj, tc.excess, 2*tc.excess)
		}
		// -2: either of the two like objects (equal pairs, either claims).
		if got := lp.maxExcess(); got != tc.worst && (tc.worst != -2 || (got != 0 && got != 2)) {
			t.Errorf("%s: worst object %d, want %d", tc.name, got, tc.worst)
		}
	}
	cfg.ExcessWeight = 0
	if lp := m([]Object{obj(24, 0), obj(76, 0), obj(34, 0)}, [][]float32{a, b, a}); lp.excess != 0 || lp.maxExcess() != -1 {
		t.Errorf("excess weight 0: excess %g, objects %v, want none", lp.excess, lp.excessObj)
	}
}

// TestLayoutBankBinding: a bank enrolled without the layout step fits any
// layout values while the step is off; a malformed layout calibration is
// rejected rather than indexed.
func TestLayoutBankBinding(t *testing.T) {
	off := config.DefaultLayout()
	off.Enabled, off.Radius = false, 0.3
	if (layoutKey(off) != config.Layout{}) {
		t.Errorf("layout off binds the bank to %+v", layoutKey(off))
	}
	on := config.DefaultLayout()
	on.Enabled = true
	if layoutKey(on) != on {
		t.Errorf("layout on: key %+v, want %+v", layoutKey(on), on)
	}
	// One channel on a 1 x 1 grid: 1 feature + 1 occupancy + 64 silhouette
	// + 8 outline bins.
	n := layoutDescLen(1, 1, true)
	refs := []Reference{{Name: "a", Feat: FeatureMap{C: 1}, Objects: []Object{{}, {}}}}
	bad := &LayoutBank{Mean: make([]float32, n), Desc: [][][]float32{{make([]float32, n)}}, ObjectStd: 1, MissingStd: 1, ExcessStd: 1, Grid: 1, Mirror: true}
	if err := bad.validate(refs); err == nil {
		t.Error("1 descriptor for 2 objects accepted")
	}
	bad.Desc[0] = append(bad.Desc[0], make([]float32, 2))
	if err := bad.validate(refs); err == nil {
		t.Error("descriptor of the wrong length accepted")
	}
	bad.Desc[0][1] = make([]float32, n)
	if err := bad.validate(refs); err == nil || !strings.Contains(err.Error(), "re-enrol") {
		t.Errorf("layout without leave-one-out scores: error %v, want one saying to re-enrol", err)
	}
	bad.LOOObject, bad.LOOMissing, bad.LOOExcess = []float64{0.5}, []float64{0.5}, []float64{0.5}
	if err := bad.validate(refs); err == nil {
		t.Error("layout without uncoverage statistics accepted")
	}
	bad.UncoverMean, bad.UncoverStd = [][]float32{{0, 0}}, [][]float32{{1, 0}}
	if err := bad.validate(refs); err == nil {
		t.Error("uncoverage spread 0 accepted")
	}
	bad.UncoverStd[0][1] = 0.5
	if err := bad.validate(refs); err != nil {
		t.Errorf("consistent layout rejected: %v", err)
	}
	// Descriptors with outline histograms in a bank that says it has none.
	bad.Mirror = false
	if err := bad.validate(refs); err == nil || !strings.Contains(err.Error(), "re-enrol") {
		t.Errorf("descriptors that do not fit layout.mirror: error %v, want one saying to re-enrol", err)
	}
	// A bank from before parts were grouped has no Grid and shorter
	// descriptors; inspecting with it would index past them.
	old := &LayoutBank{Mean: make([]float32, 2), Desc: [][][]float32{{make([]float32, 2), make([]float32, 2)}}, ObjectStd: 1, MissingStd: 1, ExcessStd: 1}
	if err := old.validate(refs); err == nil || !strings.Contains(err.Error(), "re-enrol") {
		t.Errorf("layout calibration of an older samlad: error %v, want one saying to re-enrol", err)
	}
}

// TestUncoverStatsByHand: reference 0's object 0 is left uncovered 0.2
// and 0.4 by the two good images that compare with it: mean 0.3, spread
// 0.1. Its object 1 (not scored) and reference 1's object, whose one
// value gives spread 0, get the floor.
func TestUncoverStatsByHand(t *testing.T) {
	refs := []Reference{{Objects: make([]Object, 2)}, {Objects: make([]Object, 1)}}
	nan := math.NaN()
	peers := [][]int{{0}, {0, 1}}
	raw := []*layoutParts{{uncover: [][]float64{{0.2, nan}}}, {uncover: [][]float64{{0.4, nan}, {0.7}}}}
	mean, sd := uncoverStats(uncoverSums(refs, peers, raw))
	if math.Abs(float64(mean[0][0])-0.3) > 1e-6 || math.Abs(float64(sd[0][0])-0.1) > 1e-6 {
		t.Errorf("reference 0 object 0: mean %g spread %g, want 0.3 0.1", mean[0][0], sd[0][0])
	}
	if mean[0][1] != 0 || sd[0][1] != layoutUncoverFloor {
		t.Errorf("object never scored: mean %g spread %g, want 0 and the floor", mean[0][1], sd[0][1])
	}
	if math.Abs(float64(mean[1][0])-0.7) > 1e-6 || sd[1][0] != layoutUncoverFloor {
		t.Errorf("reference 1: mean %g spread %g, want 0.7 and the floor", mean[1][0], sd[1][0])
	}
}

// TestUncoverWithoutOwn: good image 1's own uncoverage is left out of the
// statistics its missing term is calibrated with, so reference 0's object 0
// has image 0's 0.2 alone (spread: the floor), and reference 1's object,
// which only image 1 scored, is as never scored; the bank's own statistics
// are not touched.
func TestUncoverWithoutOwn(t *testing.T) {
	refs := []Reference{{Objects: make([]Object, 2)}, {Objects: make([]Object, 1)}}
	nan := math.NaN()
	peers := [][]int{{0}, {0, 1}}
	raw := []*layoutParts{{uncover: [][]float64{{0.2, nan}}}, {uncover: [][]float64{{0.4, nan}, {0.7}}}}
	sums := uncoverSums(refs, peers, raw)
	lb := &LayoutBank{}
	lb.UncoverMean, lb.UncoverStd = uncoverStats(sums)
	loo := lb.withoutOwn(sums, peers[1], raw[1].uncover)
	if math.Abs(float64(loo.UncoverMean[0][0])-0.2) > 1e-6 || loo.UncoverStd[0][0] != layoutUncoverFloor {
		t.Errorf("reference 0 object 0 without image 1: mean %g spread %g, want 0.2 and the floor", loo.UncoverMean[0][0], loo.UncoverStd[0][0])
	}
	if loo.UncoverMean[1][0] != 0 || loo.UncoverStd[1][0] != layoutUncoverFloor {
		t.Errorf("reference 1 without its only image: mean %g spread %g, want 0 and the floor", loo.UncoverMean[1][0], loo.UncoverStd[1][0])
	}
	if math.Abs(float64(lb.UncoverMean[0][0])-0.3) > 1e-6 || math.Abs(float64(lb.UncoverMean[1][0])-0.7) > 1e-6 {
		t.Errorf("the bank's statistics changed: %v", lb.UncoverMean)
	}
}

// TestLayoutPartsByHand: a bar and a foot whose centroids lie within the
// radius are one part and share one descriptor, worked out by hand; a far
// object is a part of its own; the mirrored part differs in its
// silhouette.
func TestLayoutPartsByHand(t *testing.T) {
	const w = 32
	// L: bar x 0-3, y 0-7 (label 1) and foot x 4-7, y 6-7 (label 2), so
	// the part's box is 8 x 8; a dot at x 24-27, y 24-27 (label 3).
	l := []image.Rectangle{image.Rect(0, 0, 4, 8), image.Rect(4, 6, 8, 8), image.Rect(24, 24, 28, 28)}
	mirror := []image.Rectangle{image.Rect(4, 0, 8, 8), image.Rect(0, 6, 4, 8), image.Rect(24, 24, 28, 28)}
	mk := func(rs []image.Rectangle) *view {
		v := &view{W: w, H: w, C: 1, Feat: make([]float32, w*w), Labels: make([]uint16, w*w)}
		for i, r := range rs {
			o := Object{Box: r, Area: r.Dx() * r.Dy(), CX: float32(r.Min.X+r.Max.X) / 2, CY: float32(r.Min.Y+r.Max.Y) / 2}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					v.Labels[y*w+x] = uint16(i + 1)
					v.Feat[y*w+x] = float32(i + 1)
				}
			}
			v.Objects = append(v.Objects, o)
		}
		return v
	}
	v := mk(l)
	// Centroids (2, 4) and (6, 7): 5 px apart, within 0.2 * 32 = 6.4;
	// the dot at (26, 26) is 28 px from the nearest.
	if got := layoutGroups(v.Objects, 0.2*w); got[0] != 0 || got[1] != 0 || got[2] != 2 {
		t.Fatalf("parts %v, want [0 0 2]", got)
	}
	if got := layoutGroups(v.Objects, 0.1*w); got[1] != 1 {
		t.Fatalf("radius 0.1 (3.2 px): parts %v, want the foot on its own", got)
	}
	d := layoutDescribe(v, 2, 0.2, true)
	if len(d[0]) != layoutDescLen(1, 2, true) || len(d[0]) != 4*2+64+4*layoutEdgeBins {
		t.Fatalf("descriptor length %d, want %d", len(d[0]), 4*2+64+4*layoutEdgeBins)
	}
	// 2 x 2 grid over the 8 x 8 box: top-left and bottom-left hold the bar
	// (feature 1); top-right is empty; bottom-right holds the foot's 8
	// pixels (feature 2). Every object pixel in the box is the part's.
	want := []float32{1, 0, 1, 2, layoutOccupancy, 0, layoutOccupancy, layoutOccupancy}
	for k, x := range want {
		if d[0][k] != x {
			t.Errorf("cell entry %d = %g, want %g", k, d[0][k], x)
		}
	}
	// The 8 x 8 silhouette of an 8 x 8 box is the mask itself.
	for y := range 8 {
		for x := range 8 {
			in := x < 4 || y >= 6
			if got, want := d[0][8+y*8+x], float32(map[bool]int{true: layoutFineWeight}[in]); got != want {
				t.Errorf("silhouette (%d, %d) = %g, want %g", x, y, got, want)
			}
		}
	}
	if !slices.Equal(d[0], d[1]) {
		t.Error("the foot's descriptor differs from its part's")
	}
	// Without mirror the descriptor ends at the silhouette.
	if plain := layoutDescribe(v, 2, 0.2, false); !slices.Equal(plain[0], d[0][:4*2+64]) {
		t.Errorf("descriptor without outline histograms %v, want the first %d entries of %v", plain[0], 4*2+64, d[0])
	}
	// The dot is a part of its own: one filled box, feature 3.
	if d[2][0] != 3 || d[2][4] != layoutOccupancy || d[2][8] != layoutFineWeight {
		t.Errorf("dot: %v", d[2][:9])
	}
	// The mirrored L has another silhouette and outline, and layoutMirror
	// turns the L's into them exactly (the box divides evenly); the
	// features it leaves as they are.
	m := layoutDescribe(mk(mirror), 2, 0.2, true)
	if slices.Equal(m[0][8:], d[0][8:]) {
		t.Error("a mirrored part has the same silhouette")
	}
	dm := layoutMirror(d[0], 1, 2)
	near := slices.EqualFunc(dm[4:], m[0][4:], func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-5 })
	if !near || !slices.Equal(dm[:4], d[0][:4]) {
		t.Errorf("layoutMirror:\n%v\nwant\n%v", dm, m[0])
	}
	// Outline histograms by hand, the L's top-left cell (x 0-3, y 0-3 of
	// the box; the outline one pixel beyond counts in the border cells):
	// its outline runs along x = -1/0 and x = 3/4 (vertical edges,
	// horizontal gradient, bin 0) and y = -1/0 (horizontal edge, bin 4),
	// with corner pixels between; bin 0 and bin 4 hold the most, the
	// diagonals the least but not nothing.
	e := d[0][8+64 : 8+64+layoutEdgeBins]
	if !(e[0] > e[2] && e[4] > e[2] && e[0] > e[6] && e[4] > e[6] && e[2] > 0) {
		t.Errorf("top-left outline histogram %v: want bins 0 and 4 above the diagonals 2 and 6", e)
	}
	var ss float64
	for _, x := range e {
		ss += float64(x) * float64(x)
	}
	if n := math.Sqrt(ss); n >= layoutEdgeWeight || n < layoutEdgeWeight/2 {
		t.Errorf("top-left outline histogram norm %g, want just under %d", n, layoutEdgeWeight)
	}
}

// TestLayoutZByHand: the object value 3 against mean 1 and spread 2 is
// z 1; the missing value 1.5 against mean 0.5 and spread 0.25 is 4 spreads
// above, which counts missing_weight 0.5 x 4 = 2; the excess value 0.9
// against mean 0.3 and spread 0.2 is 3 spreads above, which counts
// excess_weight 2 x 3 = 6. A weight of 0 leaves its term out (-Inf).
func TestLayoutZByHand(t *testing.T) {
	lb := &LayoutBank{ObjectMean: 1, ObjectStd: 2, MissingMean: 0.5, MissingStd: 0.25, ExcessMean: 0.3, ExcessStd: 0.2}
	lp := &layoutParts{object: []float64{0.5, 3}, missing: 1.5, excess: 0.9}
	cfg := config.Layout{ObjectWeight: 1, MissingWeight: 0.5, ExcessWeight: 2}
	if zo, zm, ze := lb.z(lp, cfg); zo != 1 || zm != 2 || math.Abs(ze-6) > 1e-12 {
		t.Errorf("z = %g, %g, %g, want 1, 2, 6", zo, zm, ze)
	}
	cfg.ObjectWeight, cfg.MissingWeight, cfg.ExcessWeight = 0, 0, 0
	if zo, zm, ze := lb.z(lp, cfg); !math.IsInf(zo, -1) || !math.IsInf(zm, -1) || !math.IsInf(ze, -1) {
		t.Errorf("weights 0: z = %g, %g, %g, want -Inf each", zo, zm, ze)
	}
}

// TestLayoutRefIdx: the layout step takes its references from the frame's
// one retrieval: its layout.refs nearest, or every reference with the
// nearest first.
func TestLayoutRefIdx(t *testing.T) {
	refs := make([]Reference, 5)
	for i := range refs {
		refs[i].Global = []float32{float32(i), 0, 0, 0}
	}
	e := &Engine{bank: &Bank{Refs: refs}, index: newRefIndex(refs, 1, 2, 2)}
	q := []float32{2.9, 0, 0, 0}
	var s retrievalScratch
	for _, c := range []struct {
		refs, exclude int
		want          []int
	}{
		{2, -1, []int{3, 2}},
		{0, -1, []int{3, 0, 1, 2, 4}},
		{5, -1, []int{3, 0, 1, 2, 4}},
		// The self-check leaves the reference an anomaly was made from out.
		{2, 3, []int{2, 4}},
		{4, 3, []int{2, 0, 1, 4}},
	} {
		e.p.Layout.Refs = c.refs
		n, _ := e.layoutN(c.exclude)
		near := e.index.nearestExcept(q, max(n, countRefs), c.exclude, &s)
		if got := e.layoutRefIdx(near, c.exclude); !slices.Equal(got, c.want) {
			t.Errorf("layout.refs %d without %d: %v, want %v", c.refs, c.exclude, got, c.want)
		}
	}
}

// byHandLayout is the layout step with a fixed radius for every part, as
// the hand-worked cases set their objects' places for it.
func byHandLayout() config.Layout {
	l := config.DefaultLayout()
	l.Radius, l.Group = 0.15, config.On
	return l
}

// separation is the AUROC of the gaps against the gaps negated: 1 when
// every gap is positive, 0.5 for gaps symmetric about 0, ties half.
func TestSeparation(t *testing.T) {
	for _, c := range []struct {
		gaps []float64
		want float64
	}{
		{[]float64{0.1, 0.2, 0.3}, 1},
		{[]float64{-0.2, -0.1, 0.1, 0.2}, 0.5},
		{[]float64{0, 0}, 0.5},
		{[]float64{-0.3, -0.1}, 0},
		{[]float64{0.2, -0.1}, 0.75},
	} {
		if got := separation(c.gaps); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("separation(%v) = %g, want %g", c.gaps, got, c.want)
		}
	}
}

// learnGrouping joins segments when that makes the number of parts per
// image clearly steadier: 9 parts cut into 1 to 3 pieces each are joined;
// 9 whole parts, or parts always cut the same way, are not.
func TestLearnGrouping(t *testing.T) {
	refsOf := func(pieces func(img, part int) int) []Reference {
		refs := make([]Reference, 12)
		for i := range refs {
			r := &refs[i]
			r.MapW, r.MapH = 100, 100
			for p := range 9 {
				cx, cy := float32(15+30*(p%3)), float32(15+30*(p/3))
				for k := range pieces(i, p) {
					r.Objects = append(r.Objects, Object{CX: cx + float32(3*k), CY: cy})
				}
			}
		}
		return refs
	}
	cut := learnGrouping(refsOf(func(i, p int) int { return 1 + (i*7+p*3)%3 }), 0.1)
	whole := learnGrouping(refsOf(func(int, int) int { return 1 }), 0.1)
	same := learnGrouping(refsOf(func(_, p int) int { return 1 + p%2 }), 0.1)
	if !cut.On || cut.Parts != 9 || cut.PartsCV != 0 {
		t.Errorf("parts cut into a varying number of pieces: %+v, want them joined into 9 parts", cut)
	}
	if whole.On || whole.Segments != 9 {
		t.Errorf("whole parts: %+v, want them kept apart", whole)
	}
	if same.On {
		t.Errorf("parts always cut the same way: %+v, want them kept apart (the count is steady already)", same)
	}
}
