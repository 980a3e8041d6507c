package runner

import (
	"slices"
	"testing"
)

// An operating point counts an image as rejected when its score exceeds
// the threshold, per group and per type.
func TestOperatingPointCounts(t *testing.T) {
	recs := []ImageRecord{
		{Group: "", Scores: map[string]float64{SAMLAD: 0.5}},
		{Group: "", Scores: map[string]float64{SAMLAD: 2.5}},
		{Group: Logical, Anomaly: "missing", Scores: map[string]float64{SAMLAD: 3}},
		{Group: Logical, Anomaly: "extra", Scores: map[string]float64{SAMLAD: 1}},
		{Group: Structural, Anomaly: "scratch", Scores: map[string]float64{SAMLAD: 2}},
	}
	op := OperatingPoint{Rate: 0.01, Threshold: 2}
	op.count(recs)
	if op.Good != (Count{1, 2}) || op.Groups[Logical] != (Count{1, 2}) || op.Groups[Structural] != (Count{0, 1}) {
		t.Errorf("good %v, groups %v", op.Good, op.Groups)
	}
	if op.Types["missing"] != (Count{1, 1}) || op.Types["extra"] != (Count{0, 1}) {
		t.Errorf("types %v", op.Types)
	}
}

// A written map keeps its map's maximum whatever the resolutions: the
// official evaluation scores an image by its map's maximum.
func TestResizeKeepsTheMaximum(t *testing.T) {
	for _, c := range [][4]int{{28, 28, 96, 96}, {28, 28, 256, 256}, {56, 56, 40, 40}, {14, 14, 333, 200}} {
		mw, mh, w, h := c[0], c[1], c[2], c[3]
		m := make([]float32, mw*mh)
		for i := range m {
			m[i] = float32((i*7919)%101) / 100
		}
		m[(mh/2)*mw+mw/3] = 3 // a single-cell peak
		if got := slices.Max(resizeMap(m, mw, mh, w, h)); got != 3 {
			t.Errorf("resizeMap %dx%d -> %dx%d: maximum %v, want 3", mw, mh, w, h, got)
		}
		if got := slices.Max(resizeCovering(m, mw, mh, 8*mw, 8*mw+4, w, h)); got != 3 {
			t.Errorf("resizeCovering %dx%d -> %dx%d: maximum %v, want 3", mw, mh, w, h, got)
		}
	}
}
