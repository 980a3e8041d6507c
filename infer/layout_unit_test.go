package infer

import (
	"image"
	"math"
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
// B uncovered (missing (1 - (-1)) / 2 = 1).
func TestLayoutMeasureByHand(t *testing.T) {
	const w = 100
	obj := func(cx int) Object {
		return Object{Box: image.Rect(cx-5, 45, cx+5, 55), Area: 100, CX: float32(cx), CY: 50, Weight: 1}
	}
	a, b := basis(0, 3), basis(1, 3)
	refs := []Reference{{Objects: []Object{obj(25), obj(75)}}, {Objects: []Object{obj(26), obj(74)}}}
	lb := &LayoutBank{Desc: [][][]float32{{a, b}, {a, b}}, MinArea: 0.001}
	m := func(objs []Object, desc [][]float32) *layoutParts {
		return layoutMeasure(refs, lb, []int{0, 1}, objs, desc, w, w, 0.15)
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
	// Objects under MinArea are not scored.
	lb.MinArea = 0.02
	if v, _ := m([]Object{obj(24), obj(76)}, [][]float32{b, a}).maxObject(); v != 0 {
		t.Errorf("objects under min area: value %g, want 0", v)
	}
}

// TestLayoutBankBinding: a bank enrolled without the layout step fits any
// layout values while the step is off; a malformed layout calibration is
// rejected rather than indexed.
func TestLayoutBankBinding(t *testing.T) {
	off := config.DefaultLayout()
	off.Radius = 0.3
	if (layoutKey(off) != config.Layout{}) {
		t.Errorf("layout off binds the bank to %+v", layoutKey(off))
	}
	on := config.DefaultLayout()
	on.Enabled = true
	if layoutKey(on) != on {
		t.Errorf("layout on: key %+v, want %+v", layoutKey(on), on)
	}
	refs := []Reference{{Name: "a", Objects: []Object{{}, {}}}}
	bad := &LayoutBank{Mean: make([]float32, 3), Desc: [][][]float32{{make([]float32, 3)}}, ObjectStd: 1, MissingStd: 1}
	if err := bad.validate(refs); err == nil {
		t.Error("1 descriptor for 2 objects accepted")
	}
	bad.Desc[0] = append(bad.Desc[0], make([]float32, 2))
	if err := bad.validate(refs); err == nil {
		t.Error("descriptor of the wrong length accepted")
	}
	bad.Desc[0][1] = make([]float32, 3)
	if err := bad.validate(refs); err != nil {
		t.Errorf("consistent layout rejected: %v", err)
	}
}
