package runner

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/infer"
)

func TestImageAUROCByGroup(t *testing.T) {
	rec := func(anomaly, group string, s float64) ImageRecord {
		return ImageRecord{Anomaly: anomaly, Group: group, Scores: map[string]float64{SAMLAD: s}}
	}
	recs := []ImageRecord{rec("good", "", 0.1), rec("good", "", 0.2), rec("missing", Logical, 0.9),
		rec("extra", Logical, 0.15), rec("scratch", Structural, 0.3)}
	met := &Metrics{ImageAUROC: map[string]float64{}, TypeAUROC: map[string]float64{}}
	imageAUROC(recs, func(r ImageRecord) float64 { return r.Scores[SAMLAD] }, met)
	// logical: 0.9 beats both goods, 0.15 beats one: 3/4. structural: 1.
	// all: (2+1+2)/6.
	want := map[string]float64{Logical: 0.75, Structural: 1, Mean: 0.875, All: 5.0 / 6}
	for k, v := range want {
		if math.Abs(met.ImageAUROC[k]-v) > 1e-12 {
			t.Errorf("image AUROC %s = %v, want %v", k, met.ImageAUROC[k], v)
		}
	}
	if met.TypeAUROC["missing"] != 1 || met.TypeAUROC["extra"] != 0.5 || met.TypeAUROC["scratch"] != 1 {
		t.Errorf("type AUROCs %v", met.TypeAUROC)
	}
}

func TestPixelMetrics(t *testing.T) {
	good := &testImage{gt: datasets.GroundTruth{W: 2, H: 2}}
	bad := &testImage{group: Logical, gt: datasets.GroundTruth{W: 2, H: 2,
		Regions: []datasets.Region{{Mask: []bool{true, false, false, false}, Area: 1, Saturation: 1}}}}
	met := &Metrics{}
	maps := [][]float32{{0, 0.1, 0.2, 0.3}, {1, 0, 0, 0.5}}
	if err := pixelMetrics(maps, []*testImage{good, bad}, met); err != nil {
		t.Fatal(err)
	}
	// The defect pixel (1) outscores all 7 defect-free pixels.
	if met.PixelAUROC == nil || *met.PixelAUROC != 1 {
		t.Errorf("pixel AUROC %v, want 1", met.PixelAUROC)
	}
	// Full sPRO is reached before any defect-free pixel is positive.
	if math.Abs(met.SPRO[Logical]-1) > 1e-9 || met.SPRO[Mean] != met.SPRO[Logical] {
		t.Errorf("AU-sPRO %v, want logical = mean = 1", met.SPRO)
	}
	if _, ok := met.SPRO[Structural]; ok {
		t.Errorf("structural AU-sPRO without structural images: %v", met.SPRO)
	}
}

// A patch map whose 2x2 cells cover a 16 px image: each cell's centre pixel
// carries the cell's value.
func TestResizeCovering(t *testing.T) {
	m := []float32{1, 2, 3, 4}
	out := resizeCovering(m, 2, 2, 16, 16, 16, 16)
	// Cell 0 spans pixels 0..7, its centre is at 4.0 = between pixels 3 and 4.
	if out[0] != 1 || out[15*16+15] != 4 {
		t.Errorf("corners %v %v, want 1 and 4", out[0], out[255])
	}
	if v := out[3*16+3]; math.Abs(float64(v)-1) > 1e-6 {
		t.Errorf("pixel (3,3) = %v, want 1", v)
	}
	// Half way between the cell centres (x = 7.5 -> pixels 7 and 8 around it).
	if a, b := out[3*16+7], out[3*16+8]; math.Abs(float64(a+b)/2-1.5) > 1e-6 {
		t.Errorf("pixels (7,3), (8,3) = %v, %v, want mean 1.5", a, b)
	}
	// Stretching a covering map to a non-square original keeps the corners.
	wide := resizeCovering(m, 2, 2, 16, 16, 32, 8)
	if wide[0] != 1 || wide[len(wide)-1] != 4 {
		t.Errorf("stretched corners %v %v", wide[0], wide[len(wide)-1])
	}
}

func TestStats(t *testing.T) {
	var v []float64
	for i := 20; i >= 1; i-- {
		v = append(v, float64(i))
	}
	s := stats(map[string][]float64{"features": v, "total": {5}})
	if len(s) != 2 || s[0].Name != "features" || s[0].Median != 10.5 || math.Abs(s[0].P95-19.05) > 1e-9 || s[1].Median != 5 {
		t.Errorf("stats %+v", s)
	}
}

func TestGroupOf(t *testing.T) {
	for typ, want := range map[string]string{"good": "", "logical_anomalies": Logical, "structural_anomalies": Structural,
		"missing": Logical, "zero": Logical, "scratch": Structural, "broken_large": Structural} {
		if g := GroupOf(typ); g != want {
			t.Errorf("GroupOf(%q) = %q, want %q", typ, g, want)
		}
	}
}

// TestTermAUROC: each term is ranked on its own; a term that separates
// logical anomalies from good images scores 1, one that ranks them below
// scores 0, and a term missing on some image is left out.
func TestTermAUROC(t *testing.T) {
	rec := func(group string, logical, patch float64) ImageRecord {
		return ImageRecord{Group: group, Terms: map[string]float64{"logical": logical, "patch": patch}}
	}
	recs := []ImageRecord{rec("", 0, 5), rec("", 1, 6), rec(Logical, 3, 1), rec(Logical, 4, 2)}
	got := termAUROC(recs)
	if got["logical"][Logical] != 1 || got["patch"][Logical] != 0 {
		t.Errorf("logical term %v, patch term %v; want 1 and 0 on the logical group", got["logical"], got["patch"])
	}
	if _, ok := got["structural"]; ok {
		t.Error("a term no image has must be left out")
	}
}

// resizeMap before it shared resizeCells with resizeCovering; the eval
// tables need the same bits.
func oldResizeMap(m []float32, mw, mh, w, h int) []float32 {
	out := make([]float32, w*h)
	if mw == 0 || mh == 0 || len(m) < mw*mh {
		return out
	}
	sx, sy := float64(mw)/float64(w), float64(mh)/float64(h)
	for y := range h {
		fy := (float64(y)+0.5)*sy - 0.5
		for x := range w {
			out[y*w+x] = infer.Bilinear(m, mw, mh, (float64(x)+0.5)*sx-0.5, fy)
		}
	}
	keepCells(out, w, h, m, mw, mh, 1/sx, 1/sy)
	return out
}

func TestResizeMapBitsUnchanged(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 5))
	for range 200 {
		mw, mh, w, h := 1+r.IntN(40), 1+r.IntN(40), 1+r.IntN(300), 1+r.IntN(300)
		m := make([]float32, mw*mh)
		for i := range m {
			m[i] = float32(r.NormFloat64())
		}
		got, want := resizeMap(m, mw, mh, w, h), oldResizeMap(m, mw, mh, w, h)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%dx%d -> %dx%d: pixel %d is %v, was %v", mw, mh, w, h, i, got[i], want[i])
			}
		}
	}
}
