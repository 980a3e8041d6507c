package onnx

import (
	"math"
	"testing"

	"github.com/samlad/samlad/infer"
)

func TestNormalizeIntoResizesAndPads(t *testing.T) {
	// A 2x1 image with a left/right step, resized to 4x2 inside a 6x3 zero pad.
	img := &infer.Image{W: 2, H: 1, Pix: []float32{0, 1, 0.5, 0.5, 1, 0}}
	n := Normalize{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.5, 0.25, 1}}
	dst := make([]float32, 3*6*3)
	for i := range dst {
		dst[i] = 99 // stale values must be cleared
	}
	normalizeInto(dst, img, 4, 2, 6, 3, n)
	// Channel 0 across a row, half-pixel centres: 0, 0.25, 0.75, 1 -> (v-0.5)/0.5.
	want := []float32{-1, -0.5, 0.5, 1, 0, 0}
	for y := 0; y < 2; y++ {
		for x, w := range want {
			if got := dst[y*6+x]; math.Abs(float64(got-w)) > 1e-6 {
				t.Errorf("c0 (%d,%d) = %v, want %v", x, y, got, w)
			}
		}
	}
	for x := 0; x < 6; x++ {
		if dst[2*6+x] != 0 || dst[18+2*6+x] != 0 {
			t.Errorf("padding row not zero at x=%d", x)
		}
	}
	if got := dst[18]; got != 0 { // channel 1 is constant 0.5 -> 0
		t.Errorf("c1 = %v, want 0", got)
	}
	if got := dst[36+0]; math.Abs(float64(got-0.5)) > 1e-6 { // channel 2: (1-0.5)/1
		t.Errorf("c2 left = %v, want 0.5", got)
	}
}
