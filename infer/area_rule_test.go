package infer

import "testing"

// TestPartAreaLimit checks rule 1's max_area on area lists shaped like the
// generated box scenes: parts of 0.3-1.3% of the image, background
// segments of 3-20% that differ from image to image, with and without a
// clear gap between them.
func TestPartAreaLimit(t *testing.T) {
	parts := []float64{0.0035, 0.0038, 0.0067, 0.0068, 0.0112, 0.0098}
	image := func(bg ...float64) []float64 { return append(append([]float64{}, parts...), bg...) }
	a := image(0.033, 0.05, 0.07, 0.1, 0.16, 0.6)
	b := image(0.03, 0.045, 0.065, 0.09, 0.13, 0.5)
	c := image(0.036, 0.055, 0.08, 0.12, 0.19, 0.55)
	// A sliver of floor fills the gap.
	sliver := image(0.018, 0.03, 0.045, 0.065, 0.09, 0.13)
	for _, tc := range []struct {
		name   string
		images [][]float64
		lo, hi float64 // max_area must lie in [lo, hi]: above the parts, below the background
	}{
		{"gap in every image", [][]float64{a, b, c, a}, 0.0112, 0.03},
		{"gap in 3 of 4 images", [][]float64{a, b, c, sliver}, 0.0112, 0.03},
		{"gap in 1 of 4 images", [][]float64{a, sliver, sliver, sliver}, areaMaxDefault, areaMaxDefault},
		// Digits: strokes of 0.3-2.5% and one background segment over 25%.
		{"no background under 25%", [][]float64{{0.0035, 0.006, 0.0081, 0.012, 0.0164, 0.0243, 0.85}}, areaMaxDefault, areaMaxDefault},
		{"no segments", [][]float64{{}, {}}, areaMaxDefault, areaMaxDefault},
	} {
		got := partAreaLimit(tc.images)
		if got < tc.lo || got > tc.hi {
			t.Errorf("%s: max_area %.4f, want %.4f..%.4f", tc.name, got, tc.lo, tc.hi)
		}
	}
}
