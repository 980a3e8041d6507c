package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAUROCHandCases(t *testing.T) {
	for _, c := range []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
	}{
		// Pairs (pos, neg): (0.35,0.1)=1 (0.35,0.4)=0 (0.8,0.1)=1 (0.8,0.4)=1 -> 3/4.
		{"sklearn example", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
		// pos {2,1}, neg {1,0}: 2>1, 2>0, 1=1 (half), 1>0 -> 3.5/4.
		{"one tie", []float64{2, 1, 1, 0}, []bool{true, true, false, false}, 0.875},
		{"all tied", []float64{5, 5, 5}, []bool{true, false, false}, 0.5},
		{"perfect", []float64{0, 1, 2, 3}, []bool{false, false, true, true}, 1},
		{"inverted", []float64{3, 2, 1, 0}, []bool{false, false, true, true}, 0},
	} {
		got, err := AUROC(c.scores, c.labels)
		if err != nil || !near(got, c.want, 1e-12) {
			t.Errorf("%s: AUROC = %v, %v; want %v", c.name, got, err, c.want)
		}
		// The trapezoid over the tie-collapsed ROC gives the same area.
		fpr, tpr, err := ROC(c.scores, c.labels)
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := trapzMax(fpr, tpr, 1); !near(a, c.want, 1e-12) {
			t.Errorf("%s: area under ROC points = %v, want %v", c.name, a, c.want)
		}
	}
	if _, err := AUROC([]float64{1, 2}, []bool{true, true}); !errors.Is(err, ErrOneClass) {
		t.Errorf("one class: err = %v", err)
	}
	if _, err := AUROC([]float64{1, math.NaN()}, []bool{true, false}); err == nil {
		t.Error("NaN score accepted")
	}
	if _, err := AUROC([]float64{1}, []bool{true, false}); err == nil {
		t.Error("length mismatch accepted")
	}
}

func TestPixelAUROC(t *testing.T) {
	p := NewPixelAUROC()
	// Same as the "one tie" case, split over two images.
	if err := p.Add([]float32{2, 1}, []bool{true, false}); err != nil {
		t.Fatal(err)
	}
	if err := p.Add([]float32{1, 0}, []bool{true, false}); err != nil {
		t.Fatal(err)
	}
	if got, err := p.AUROC(); err != nil || got != 0.875 {
		t.Errorf("pixel AUROC = %v, %v; want 0.875", got, err)
	}
	// Negative scores keep their order.
	q := NewPixelAUROC()
	q.Add([]float32{-3, -1, -2, 0.5}, []bool{false, true, false, true})
	if got, _ := q.AUROC(); got != 1 {
		t.Errorf("negative scores: %v, want 1", got)
	}
	// Continuous scores: within the documented bin resolution of exact.
	rng := rand.New(rand.NewPCG(1, 2))
	r := NewPixelAUROC()
	var s64 []float64
	var lab []bool
	for range 20 {
		s := make([]float32, 500)
		l := make([]bool, 500)
		for i := range s {
			l[i] = rng.IntN(5) == 0
			s[i] = float32(rng.NormFloat64())
			if l[i] {
				s[i] += 1
			}
			s64, lab = append(s64, float64(s[i])), append(lab, l[i])
		}
		r.Add(s, l)
	}
	exact, _ := AUROC(s64, lab)
	if got, _ := r.AUROC(); !near(got, exact, 1e-3) {
		t.Errorf("pixel AUROC %v vs exact %v", got, exact)
	}
	if err := r.Add([]float32{1}, []bool{true, false}); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := NewPixelAUROC().AUROC(); !errors.Is(err, ErrOneClass) {
		t.Error("empty accumulator must fail")
	}
}

func mask(n int, idx ...int) []bool {
	m := make([]bool, n)
	for _, i := range idx {
		m[i] = true
	}
	return m
}

// Two defects in one image, one relative and one absolute saturation, and a
// good image. Image A (16 px): R1 = px 0-3 (relative 1.0: saturates at 4),
// R2 = px 4-7 (absolute 2: saturates at min(2, 4) = 2), px 8-15 free.
// Image B (16 px) is good. Defect-free pixels: 8 + 16 = 24.
//
//	R1 scores .9 .9 .5 .5   R2 .8 .2 .2 .2   A free .6 + 7x.1   B .7 + 15x.1
//
//	threshold      FPR    sPRO R1  sPRO R2      mean
//	t >= .9        0      0        0            0
//	.8 <= t < .9   0      2/4      0            .25
//	.7 <= t < .8   0      .5       1/2          .5
//	.6 <= t < .7   1/24   .5       .5           .5
//	.5 <= t < .6   2/24   .5       .5           .5
//	.2 <= t < .5   2/24   1        .5           .75
//	.1 <= t < .2   2/24   1        min(4/2,1)   1
//	t < .1         1      1        1            1
//
// Up to FPR .05: y = .5 on [0, 1/24] and, interpolated between (1/24, .5)
// and (2/24, .5), .5 on [1/24, .05]; area .025, divided by .05 -> .5.
// (With R2 relative instead, its sPRO would be 1/4 and the result .375.)
// Up to FPR .1: .5 on [0, 2/24], then the vertical step to 1 at 2/24 and
// y = 1 on [2/24, .1]: .5*2/24 + (.1 - 2/24) = .0583333, /.1 -> .583333.
func handImages() []SPROImage {
	a := make([]float32, 16)
	copy(a, []float32{.9, .9, .5, .5, .8, .2, .2, .2, .6})
	for i := 9; i < 16; i++ {
		a[i] = .1
	}
	b := make([]float32, 16)
	b[0] = .7
	for i := 1; i < 16; i++ {
		b[i] = .1
	}
	return []SPROImage{
		{Map: a, Regions: []Region{
			{Mask: mask(16, 0, 1, 2, 3), Saturation: 4},
			{Mask: mask(16, 4, 5, 6, 7), Saturation: 2},
		}},
		{Map: b},
	}
}

func TestAUSPROHandCase(t *testing.T) {
	// Whole curve: .5 on [0, 2/24] and 1 on [2/24, 1] -> 1/24 + 22/24.
	for _, c := range []struct{ maxFPR, want float64 }{{0.05, 0.5}, {0.1, 0.0583333333333333 / 0.1}, {1, 23.0 / 24}} {
		got, curve, err := AUSPRO(handImages(), c.maxFPR)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got, c.want, 1e-9) {
			t.Errorf("AU-sPRO@%g = %.9f, want %.9f", c.maxFPR, got, c.want)
		}
		if curve.FPR[0] != 0 || curve.SPRO[0] != 0 || curve.FPR[len(curve.FPR)-1] != 1 || curve.SPRO[len(curve.SPRO)-1] != 1 {
			t.Errorf("curve must run from (0,0) to (1,1): %v %v", curve.FPR, curve.SPRO)
		}
	}
	// The same maps with R2 saturating relative to its area (4 px).
	im := handImages()
	im[0].Regions[1].Saturation = 4
	if got, _, _ := AUSPRO(im, 0.05); !near(got, 0.375, 1e-9) {
		t.Errorf("relative R2: AU-sPRO = %v, want 0.375", got)
	}
}

// A tie between a defect pixel and a defect-free pixel gives a diagonal.
// Image: region = px 0 (score 1, saturation 1), free px 1..3 scores 1, 0, 0.
// Points (0,0), (1/3,1), (1,1). At FPR .05 the diagonal is at .15:
// area .5*.15*.05 = .00375, /.05 -> .075.
func TestAUSPROTies(t *testing.T) {
	got, _, err := AUSPRO([]SPROImage{{Map: []float32{1, 1, 0, 0}, Regions: []Region{{Mask: mask(4, 0), Saturation: 1}}}}, 0.05)
	if err != nil || !near(got, 0.075, 1e-9) {
		t.Errorf("AU-sPRO = %v, %v; want 0.075", got, err)
	}
}

// On continuous random maps the refined curve must match the exact curve
// (every distinct score as a threshold) to within the refinement tolerance.
func TestAUSPROMatchesExactCurve(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ims []SPROImage
	for i := range 12 {
		m := make([]float32, 400)
		for p := range m {
			m[p] = float32(rng.Float64())
		}
		im := SPROImage{Map: m}
		if i%2 == 1 {
			var idx []int
			for p := 40 * (i % 5); p < 40*(i%5)+60; p++ {
				idx = append(idx, p)
				m[p] += float32(rng.Float64() * 0.8)
			}
			im.Regions = []Region{{Mask: mask(400, idx...), Saturation: 30}}
		}
		ims = append(ims, im)
	}
	got, _, err := AUSPRO(ims, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := prepareSPRO(ims)
	var all []float64
	for _, m := range set.maps {
		for _, v := range m {
			all = append(all, float64(v))
		}
	}
	ts := dedupeDescending(append(all, 10, -10))
	fpr, spro := set.evaluate(ts)
	exact, _ := trapzMax(fpr, spro, 0.05)
	exact /= 0.05
	t.Logf("refined %v exact %v", got, exact)
	if !near(got, exact, 2e-3) {
		t.Errorf("refined AU-sPRO %v vs exact %v", got, exact)
	}
	if exact < 0.05 || exact > 0.95 {
		t.Errorf("test data gives a degenerate AU-sPRO %v", exact)
	}
}

func TestAUSPROBadInput(t *testing.T) {
	good := SPROImage{Map: []float32{1, 2}}
	if _, _, err := AUSPRO([]SPROImage{good}, 0.05); !errors.Is(err, ErrNoDefects) {
		t.Errorf("only good images: %v", err)
	}
	bad := []SPROImage{{Map: []float32{1, 2}, Regions: []Region{{Mask: mask(2, 0), Saturation: 0}}}}
	if _, _, err := AUSPRO(bad, 0.05); err == nil {
		t.Error("zero saturation accepted")
	}
	all := []SPROImage{{Map: []float32{1, 2}, Regions: []Region{{Mask: mask(2, 0, 1), Saturation: 1}}}}
	if _, _, err := AUSPRO(all, 0.05); err == nil {
		t.Error("no defect-free pixel accepted")
	}
	if _, _, err := AUSPRO(handImages(), 0); err == nil {
		t.Error("max FPR 0 accepted")
	}
	short := []SPROImage{{Map: []float32{1, 2}, Regions: []Region{{Mask: mask(3, 0), Saturation: 1}}}}
	if _, _, err := AUSPRO(short, 0.05); err == nil {
		t.Error("mask of the wrong size accepted")
	}
}

func TestQuantile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}
	if got := Quantile(v, 0.5); got != 11 {
		t.Errorf("median %v, want 11", got)
	}
	if got := Quantile(v, 0.95); got != 20 {
		t.Errorf("p95 %v, want 20", got)
	}
	if got := Quantile([]float64{1, 2}, 0.25); got != 1.25 {
		t.Errorf("between order statistics %v, want 1.25", got)
	}
	if got := Quantile(nil, 0.5); got != 0 {
		t.Errorf("no values %v, want 0", got)
	}
}

// AUROC and ROC against gonum: stat.ROC over all cutoffs, integrated by
// integrate.Trapezoidal, on random scores with and without ties. The
// rank-sum form rounds differently from the trapezoid, so they agree to
// rounding, not to the bit; the eval tables keep the rank-sum form.
func TestAUROCAgreesWithGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 3))
	for trial := range 500 {
		n := 2 + r.IntN(200)
		scores, labels := make([]float64, n), make([]bool, n)
		for i := range scores {
			if trial%2 == 0 {
				scores[i] = float64(r.IntN(5)) // ties
			} else {
				scores[i] = r.NormFloat64()
			}
			labels[i] = r.IntN(3) == 0
		}
		labels[0], labels[1] = true, false
		y, classes := slices.Clone(scores), slices.Clone(labels)
		stat.SortWeightedLabeled(y, classes, nil)
		tpr, fpr, _ := stat.ROC(nil, y, classes, nil)
		want := integrate.Trapezoidal(fpr, tpr)

		got, err := AUROC(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d: AUROC %v, gonum %v", trial, got, want)
		}
		f, tp, err := ROC(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		if len(f) != len(fpr) {
			t.Fatalf("trial %d: %d ROC points, gonum %d", trial, len(f), len(fpr))
		}
		for i := range f {
			if math.Abs(f[i]-fpr[i]) > 1e-12 || math.Abs(tp[i]-tpr[i]) > 1e-12 {
				t.Fatalf("trial %d point %d: (%v, %v), gonum (%v, %v)", trial, i, f[i], tp[i], fpr[i], tpr[i])
			}
		}
		if a := integrate.Trapezoidal(f, tp); math.Abs(a-got) > 1e-12 {
			t.Fatalf("trial %d: trapezoid over ROC %v, AUROC %v", trial, a, got)
		}
	}
}
